"""The authentication backend: Django's, loading the signed-in user with their role."""

import functools

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Exists, OuterRef, QuerySet

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
        sql, params, position = _user_statement()
        params = [*params[:position], pk, *params[position + 1 :]]
        user = next(iter(User._default_manager.raw(sql, params)), None)
        if user is None:
            return None
        if hasattr(user, "managed_team_ids"):
            user.manages_teams = bool(user.managed_team_ids)
            user_team_scope_loaded(user)
        else:  # SQLite: an Exists read as 0 or 1
            user.manages_teams = bool(user.manages_teams)
        return user if self.user_can_authenticate(user) else None


# Stands for the user's id while ``_user_statement`` is compiled: no user has it.
_ID_PLACEHOLDER = -7_319_451_113


@functools.cache
def _user_statement() -> tuple[str, list, int]:
    """``_users()`` narrowed to one user, compiled to SQL once per process: the SQL, its
    parameters and the position of the user's id among them. Compiling the query (three
    subqueries) cost as much as running it, on every request."""
    sql, params = _users().filter(pk=_ID_PLACEHOLDER).query.sql_with_params()
    positions = [index for index, value in enumerate(params) if value == _ID_PLACEHOLDER]
    if len(positions) != 1:
        raise ImproperlyConfigured(f"The user query's id is not one parameter: {sql}")
    return sql, list(params), positions[0]


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
