"""The authentication backend: Django's, loading the signed-in user with their role."""

import functools

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Exists, OuterRef, QuerySet

from crm.statements import USER_ID_PLACEHOLDER, CompiledQuery
from teams.models import Team, User
from teams.visibility import user_team_scope_annotations, user_team_scope_loaded


class UserBackend(ModelBackend):
    """Loads the user of each request together with whether they manage a team
    (``user.manages_teams``), their count of unread notifications (``unread_notifications``,
    the bell's) and, on PostgreSQL, the teams they see deals of
    (``teams.visibility.user_team_scope``), in the same query: the navigation shows the
    manager's pages, the bell its count, and the deals are scoped, without a query of their own
    on every page."""

    def get_user(self, user_id):
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = _user_query().rows(pk)
        if not found:
            return None
        user = found[0]
        if hasattr(user, "managed_team_ids"):
            user.manages_teams = bool(user.managed_team_ids)
            user_team_scope_loaded(user)
        else:  # SQLite: an Exists read as 0 or 1
            user.manages_teams = bool(user.manages_teams)
        return user if self.user_can_authenticate(user) else None


@functools.cache
def _user_query() -> CompiledQuery:
    """``_users()`` narrowed to one user, compiled to SQL once per process: compiling the query
    (three subqueries) cost as much as running it, on every request."""
    query = CompiledQuery(_users().filter(pk=USER_ID_PLACEHOLDER), USER_ID_PLACEHOLDER)
    if len(query.positions) != 1:
        raise ImproperlyConfigured(f"The user query's id is not one parameter: {query.sql}")
    return query


@functools.cache
def _users() -> QuerySet[User]:
    """The users as ``get_user`` reads them, built once per process (resolving the annotations
    costs more than the query); never evaluated itself."""
    from notifications.selectors import notifications_unread_annotation

    scope = user_team_scope_annotations()
    users = User._default_manager.annotate(**scope, **notifications_unread_annotation())
    if not scope:
        users = users.annotate(manages_teams=Exists(Team.managers.through.objects.filter(user_id=OuterRef("pk"))))
    return users
