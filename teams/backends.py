"""The authentication backend: Django's, loading the signed-in user with their role."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef

from teams.models import Team, User


class UserBackend(ModelBackend):
    """Loads the user of each request together with whether they manage a team
    (``user.manages_teams``), in the same query: the navigation shows the manager's pages
    without a query of its own on every page."""

    def get_user(self, user_id):
        manages = Exists(Team.managers.through.objects.filter(user_id=OuterRef("pk")))
        try:
            user = User._default_manager.annotate(manages_teams=manages).get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
