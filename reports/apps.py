from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from reports.expressions import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="reports_sqlite_functions")
