from django.db.models import QuerySet

from teams.models import Team, User
from teams.visibility import user_is_admin


def teams_managed_by(*, user: User) -> QuerySet[Team]:
    if user_is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(managers=user)


def users_assignable_by(*, user: User) -> QuerySet[User]:
    """Active members of the teams ``user`` manages (every active member for an admin)."""
    if user_is_admin(user):
        return User.objects.filter(is_active=True, teams__isnull=False).distinct().order_by("username")
    return (
        User.objects.filter(is_active=True, teams__in=Team.objects.filter(managers=user))
        .distinct()
        .order_by("username")
    )


def team_active_reps(*, team: Team) -> list[User]:
    """Who can take leads in ``team``, in a stable order (round-robin depends on it)."""
    return list(team.members.filter(is_active=True).order_by("id"))


def teams_visible_to(*, user: User) -> QuerySet[Team]:
    """The teams ``user`` belongs to or manages (every team for an admin)."""
    from django.db.models import Q

    if user_is_admin(user):
        return Team.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return Team.objects.none()
    return Team.objects.filter(
        Q(pk__in=Team.members.through.objects.filter(user=user).values("team_id"))
        | Q(pk__in=Team.managers.through.objects.filter(user=user).values("team_id"))
    )
