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


def opportunity_visibility_q(user, prefix: str = "") -> Q:
    if not user_is_active(user):
        return Q(pk__in=[])
    if user_is_admin(user):
        return Q()
    return (
        Q(**{f"{prefix}owner": user})
        | Q(**{f"{prefix}team__in": managed_team_ids(user)})
        | Q(**{f"{prefix}owner__isnull": True, f"{prefix}team__in": pool_team_ids(user)})
    )


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
        return _team_model().objects.filter(pk=opportunity.team_id, members=user, reps_see_pool=True).exists()
    return False
