from django.db.models import IntegerField, Q, QuerySet, Subquery

from crm.statements import UserQuery
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
    if user_is_admin(user):
        return Team.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return Team.objects.none()
    return Team.objects.filter(
        Q(pk__in=Team.members.through.objects.filter(user=user).values("team_id"))
        | Q(pk__in=Team.managers.through.objects.filter(user=user).values("team_id"))
    )


_teams_visible_by_name = UserQuery(lambda user: teams_visible_to(user=user).order_by("name"))


def teams_visible_to_by_name(*, user: User) -> list[Team]:
    """``teams_visible_to`` by name, as a list: one query, compiled once per process
    (``crm.statements.UserQuery``)."""
    return _teams_visible_by_name(user)


def user_is_manager(*, user) -> bool:
    """Manages at least one team, or is an admin: sees the manager's pages and controls.
    Reads the flag teams.backends.UserBackend loaded with the request's user when present,
    so the pages ask no extra query."""
    if user_is_admin(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    loaded = getattr(user, "manages_teams", None)
    if loaded is not None:
        return bool(loaded)
    return Team.objects.filter(managers=user).exists()


class RowCount(Subquery):
    """How many rows the subquery has (0 for none)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()


def team_members_with_deal_counts(*, teams: QuerySet[Team], include_inactive: bool = False) -> QuerySet[User]:
    """The members of ``teams`` with how many of those teams' deals each owns: open, overdue
    (open, past the expected close date), won and expired. One query: each figure a count of the
    member's deals in those teams, read from the index on (team, owner, status, close date)
    alone (opportunities/migrations/0007) — never the deals themselves.

    Each count is ``COUNT(*)`` over the member's rows, not one grouped by owner: grouping rows
    that all have the same owner cost PostgreSQL three times the index read (a manager's 10
    reps of 6,000 open deals each: 8 ms for the four counts, 6 ms without)."""
    from django.db.models import OuterRef

    from crm.dates import company_today
    from opportunities.models import Opportunity

    team_ids = teams.values("pk")
    members = User.objects.filter(pk__in=Team.members.through.objects.filter(team__in=team_ids).values("user_id"))
    if not include_inactive:
        members = members.filter(is_active=True)
    deals = Opportunity.objects.filter(team__in=team_ids, owner=OuterRef("pk")).order_by()

    def count_of(**condition):
        return RowCount(deals.filter(**condition).values("owner"))

    return members.annotate(
        open_count=count_of(status=Opportunity.Status.OPEN),
        overdue_count=count_of(status=Opportunity.Status.OPEN, expected_close_date__lt=company_today()),
        won_count=count_of(status=Opportunity.Status.WON),
        expired_count=count_of(status=Opportunity.Status.EXPIRED),
    ).order_by("-is_active", "first_name", "username")


def teams_managed_with_counts(*, user) -> QuerySet[Team]:
    """The teams ``user`` manages (all for an admin) with their active members, open deals and
    unassigned pool. One query."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from opportunities.models import Opportunity

    def count_of(queryset):
        counted = queryset.order_by().values("team").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    open_deals = Opportunity.objects.filter(team=OuterRef("pk"), status=Opportunity.Status.OPEN)
    return (
        teams_managed_by(user=user)
        .annotate(
            member_count=Count("members", filter=Q(members__is_active=True), distinct=True),
            open_count=count_of(open_deals),
            pool_count=count_of(open_deals.filter(owner__isnull=True)),
        )
        .order_by("name")
    )


def team_get_managed(*, user, pk: int) -> Team:
    """One team ``user`` manages (any team for an admin); else Team.DoesNotExist (a 404)."""
    return teams_managed_by(user=user).get(pk=pk)
