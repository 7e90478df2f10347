"""Team membership and people leaving."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from teams.models import Team, User
from teams.visibility import user_is_admin, user_manages_team


@transaction.atomic
def user_deactivate(*, user: User, by: User, successor: User | None = None, reason: str = "") -> int:
    """A rep leaves: their open deals go to ``successor`` (or each team's pool) with history,
    then the account is deactivated. Nobody is deleted, so every record keeps its author.
    Admins may deactivate anyone else; a manager only someone all of whose teams they manage.
    Returns how many deals were handed over."""
    from opportunities.services import opportunity_reassign_all

    teams = list(user.teams.all()) + list(user.managed_teams.all())
    # A manager may only let go of people inside their own teams: someone in no team (or an
    # administrator) is for administrators alone — all() of no teams would otherwise say yes.
    if not user_is_admin(by) and (
        user.is_staff or user.is_superuser or not teams or not all(user_manages_team(by, team.pk) for team in teams)
    ):
        raise PermissionDenied(_("Only a manager of all their teams can deactivate this person."))
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    moved = opportunity_reassign_all(
        from_owner=user, to_owner=successor, by=by, reason=reason or _("%(user)s left") % {"user": user}
    )
    user.is_active = False
    user.save(update_fields=["is_active"])
    return moved


@transaction.atomic
def team_add_member(*, team: Team, user: User, by: User) -> None:
    if not user_manages_team(by, team.pk):
        raise PermissionDenied(_("Only a manager of the team can add members."))
    if not user.is_active:
        raise ValidationError(_("%(user)s is deactivated.") % {"user": user})
    team.members.add(user)


@transaction.atomic
def team_hand_over(
    *, from_user: User, to_user: User | None, by: User, reason: str = "", deactivate: bool = False
) -> int:
    """A rep leaves (or changes job): every open deal of theirs goes to ``to_user`` (None:
    each team's pool) with an assignment row each, then — if asked — their account is
    deactivated. All or nothing. Returns how many deals moved."""
    from opportunities.services import opportunity_reassign_all

    moved = opportunity_reassign_all(from_owner=from_user, to_owner=to_user, by=by, reason=reason)
    if deactivate:
        user_deactivate(user=from_user, by=by, successor=to_user, reason=reason)
    return moved
