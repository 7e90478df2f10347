"""The authentication backend: Django's, loading the signed-in user with their role."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef

from teams.models import Team, User
from teams.visibility import user_team_scope_annotations, user_team_scope_loaded


class UserBackend(ModelBackend):
    """Loads the user of each request together with whether they manage a team
    (``user.manages_teams``) and, on PostgreSQL, the teams they see deals of
    (``teams.visibility.user_team_scope``), in the same query: the navigation shows the
    manager's pages, and the deals are scoped, without a query of their own on every page."""

    def get_user(self, user_id):
        scope = user_team_scope_annotations()
        users = User._default_manager.annotate(**scope)
        if not scope:
            users = users.annotate(manages_teams=Exists(Team.managers.through.objects.filter(user_id=OuterRef("pk"))))
        try:
            user = users.get(pk=user_id)
        except User.DoesNotExist:
            return None
        if scope:
            user.manages_teams = bool(user.managed_team_ids)
            user_team_scope_loaded(user)
        return user if self.user_can_authenticate(user) else None
