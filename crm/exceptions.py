"""Errors raised by services, for every caller (pages, API, admin, tasks) to present."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = ["ConflictError", "PermissionDenied", "ValidationError"]


class ConflictError(Exception):
    """The row changed since the caller read it (optimistic locking): nothing was saved."""

    default_message = _("Someone else changed this record after you opened it. Reload it and apply your change again.")

    def __init__(self, message=None, *, current_version: int | None = None):
        self.message = message or self.default_message
        self.current_version = current_version
        super().__init__(str(self.message))
