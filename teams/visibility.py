"""Who may see and change what: the one place these rules live.

- An admin (staff) sees everything.
- A manager sees every opportunity of the teams they manage (plus their own).
- A rep sees the opportunities they own, plus their team's unassigned pool when the team
  allows it (``Team.reps_see_pool``).
- Customers are visible through a visible opportunity, or to whoever created them.
- Attachments are visible through their opportunity.

Querysets scope with these Q objects (``Opportunity.objects.visible_to(user)``); services
check single rows with the ``can_*`` functions. Both read the same rules.
"""

from django.db.models import Exists, OuterRef, Q


def user_is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def user_is_active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _team_model():
    from teams.models import Team

    return Team


def managed_team_ids(user):
    """A subquery of the ids of the teams ``user`` manages."""
    return _team_model().objects.filter(managers=user).values("id")


def pool_team_ids(user):
    """A subquery of the teams whose unassigned pool ``user`` may work."""
    return _team_model().objects.filter(members=user, reps_see_pool=True).values("id")


def user_team_scope(user) -> tuple[frozenset[int], frozenset[int]]:
    """The ids of the teams ``user`` manages and of the teams whose pool they may work, in one
    query. A user the authentication backend loaded for this request (``manages_teams`` set)
    keeps the answer for the rest of the request: every request loads its user afresh, so it
    is never older than the request, and a request that changes teams changes other people's."""
    cached = getattr(user, "_team_scope", None)
    if cached is not None:
        return cached
    Team = _team_model()
    managed = Exists(Team.managers.through.objects.filter(team_id=OuterRef("pk"), user_id=user.pk))
    member = Exists(Team.members.through.objects.filter(team_id=OuterRef("pk"), user_id=user.pk))
    rows = (
        Team.objects.annotate(managed=managed, pool=member)
        .filter(Q(managed=True) | Q(pool=True, reps_see_pool=True))
        .order_by()
        .values_list("pk", "managed", "pool", "reps_see_pool")
    )
    managed_ids, pool_ids = set(), set()
    for pk, is_managed, is_member, reps_see_pool in rows:
        if is_managed:
            managed_ids.add(pk)
        if is_member and reps_see_pool:
            pool_ids.add(pk)
    scope = frozenset(managed_ids), frozenset(pool_ids)
    if hasattr(user, "manages_teams"):
        user._team_scope = scope
    return scope


def user_team_scope_annotations() -> dict:
    """``user_team_scope`` as annotations of a query of users, for the authentication backend to
    load it with the request's user instead of in a query of its own on every page: the ids of
    the teams each user manages and of the teams whose pool they may work, as arrays. PostgreSQL
    only (an empty dict elsewhere: the scope is then read by its own query when first needed)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    from django.contrib.postgres.expressions import ArraySubquery

    Team = _team_model()
    managed = Team.managers.through.objects.filter(user_id=OuterRef("pk")).values("team_id")
    pool = Team.members.through.objects.filter(user_id=OuterRef("pk"), team__reps_see_pool=True).values("team_id")
    return {"managed_team_ids": ArraySubquery(managed), "pool_team_ids": ArraySubquery(pool)}


def user_team_scope_loaded(user) -> None:
    """Keeps the scope a user was loaded with (``user_team_scope_annotations``) for the rest of
    the request, as ``user_team_scope`` keeps the one it reads."""
    user._team_scope = frozenset(user.managed_team_ids), frozenset(user.pool_team_ids)


def opportunity_visibility_arms(user, prefix: str = "", *, team_ids: bool = True) -> list[Q]:
    """The rules above as the branches of an OR: a deal is visible if one of them matches (an
    admin has one branch matching everything; an inactive user none). With ``team_ids`` no deal
    matches two branches, so counts and pages of the branches add up.

    By default the teams are read first (one small query, kept for the request) and written
    as plain ids: PostgreSQL then plans each branch on its own index (a rep's deals by owner, a
    manager's by team), which a ``team IN (subquery)`` inside an OR does not allow, and a
    branch with no team drops out. ``team_ids=False`` keeps the teams as subqueries, for a
    condition evaluated per row of another table (customers, attachments), where the plan does
    not depend on it and the extra query would buy nothing."""
    if team_ids:
        return opportunity_scope_arms(opportunity_visibility_scope(user), prefix)
    if not user_is_active(user):
        return []
    if user_is_admin(user):
        return [Q()]
    return [
        Q(**{f"{prefix}owner": user}),
        Q(**{f"{prefix}team__in": managed_team_ids(user)}) & ~Q(**{f"{prefix}owner": user}),
        Q(**{f"{prefix}owner__isnull": True, f"{prefix}team__in": pool_team_ids(user)}),
    ]


def opportunity_visibility_scope(user) -> tuple:
    """Everything the rule depends on for ``user``, as a hashable value: ``("none",)`` for an
    inactive or anonymous user, ``("all",)`` for an admin, else ``("teams", user id, ids of the
    teams they manage, ids of the other teams whose pool they may work)``. Two users with the
    same scope see the same deals, so SQL built from a scope can be kept under it."""
    if not user_is_active(user):
        return ("none",)
    if user_is_admin(user):
        return ("all",)
    managed, pool = user_team_scope(user)
    return ("teams", user.pk, tuple(sorted(managed)), tuple(sorted(pool - managed)))


def opportunity_scope_arms(scope: tuple, prefix: str = "") -> list[Q]:
    """``opportunity_visibility_arms`` of a user with this ``opportunity_visibility_scope``, the
    teams written as plain ids."""
    if scope[0] == "none":
        return []
    if scope[0] == "all":
        return [Q()]
    _kind, user_id, managed, pool = scope
    arms = [Q(**{f"{prefix}owner": user_id})]
    if managed:
        arms.append(Q(**{f"{prefix}team__in": list(managed)}) & ~Q(**{f"{prefix}owner": user_id}))
    if pool:
        arms.append(Q(**{f"{prefix}owner__isnull": True, f"{prefix}team__in": list(pool)}))
    return arms


def opportunity_visibility_q(user, prefix: str = "", *, team_ids: bool = False) -> Q:
    """The OR of ``opportunity_visibility_arms``: the one condition for a visible deal. By
    default with the teams as subqueries (no query of its own, for conditions inside other
    reads: reports, customers, attachments); ``Opportunity.objects.visible_to`` asks for the
    ids (``team_ids=True``), which lets PostgreSQL plan the deal lists on their indexes."""
    return _any_of(opportunity_visibility_arms(user, prefix, team_ids=team_ids))


def opportunity_scope_q(scope: tuple, prefix: str = "") -> Q:
    """``opportunity_visibility_q`` (teams as ids) of any user with this scope."""
    return _any_of(opportunity_scope_arms(scope, prefix))


def _any_of(arms: list[Q]) -> Q:
    if not arms:
        return Q(pk__in=[])
    condition = arms[0]
    for arm in arms[1:]:
        condition |= arm
    return condition


def customer_visibility_q(user) -> Q:
    if not user_is_active(user):
        return Q(pk__in=[])
    if user_is_admin(user):
        return Q()
    from opportunities.models import Opportunity

    visible = Opportunity.objects.filter(opportunity_visibility_q(user), customer=OuterRef("pk"))
    return Q(created_by=user) | Q(Exists(visible))


def attachment_visibility_q(user) -> Q:
    return opportunity_visibility_q(user, prefix="opportunity__")


def user_manages_team(user, team_id: int) -> bool:
    if user_is_admin(user):
        return True
    if not user_is_active(user):
        return False
    if getattr(user, "_team_scope", None) is not None:
        return team_id in user._team_scope[0]
    return _team_model().objects.filter(pk=team_id, managers=user).exists()


def can_manage_opportunity(user, opportunity) -> bool:
    """Managers of the deal's team and admins: owner, difficulty, incentive flags, overrides."""
    return user_manages_team(user, opportunity.team_id)


def can_edit_opportunity(user, opportunity) -> bool:
    """Work the deal: log activities, move stages, push the date, close it."""
    if not user_is_active(user):
        return False
    if opportunity.owner_id == user.pk:
        return True
    if can_manage_opportunity(user, opportunity):
        return True
    if opportunity.owner_id is None:
        if getattr(user, "_team_scope", None) is not None:
            return opportunity.team_id in user._team_scope[1]
        return _team_model().objects.filter(pk=opportunity.team_id, members=user, reps_see_pool=True).exists()
    return False
