"""The authentication backend: Django's, loading the signed-in user with their role."""

import functools

from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef, QuerySet

from teams.models import Team, User
from teams.visibility import user_team_scope_annotations, user_team_scope_loaded


class UserBackend(ModelBackend):
    """Loads the user of each request together with whether they manage a team
    (``user.manages_teams``) and, on PostgreSQL, the teams they see deals of
    (``teams.visibility.user_team_scope``), in the same query: the navigation shows the
    manager's pages, and the deals are scoped, without a query of their own on every page."""

    def get_user(self, user_id):
        try:
            user = _users().get(pk=user_id)
        except User.DoesNotExist:
            return None
        if hasattr(user, "managed_team_ids"):
            user.manages_teams = bool(user.managed_team_ids)
            user_team_scope_loaded(user)
        return user if self.user_can_authenticate(user) else None


@functools.cache
def _users() -> QuerySet[User]:
    """The users as ``get_user`` reads them, built once per process (resolving the annotations
    costs more than the query): ``get()`` works on a copy, so this one is never evaluated."""
    scope = user_team_scope_annotations()
    users = User._default_manager.annotate(**scope)
    if not scope:
        users = users.annotate(manages_teams=Exists(Team.managers.through.objects.filter(user_id=OuterRef("pk"))))
    return users
