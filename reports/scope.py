"""Whose numbers a viewer may see in a report — built on ``teams.visibility``, never beside it.

Two filters, both applied by every report:

- **deal scope**: the deal must be visible to the viewer (``opportunity_visibility_q``): an admin
  sees every deal, a manager the deals of the teams they manage plus their own, a rep their own
  (and their team's unassigned pool where the team allows it).
- **credit scope**, for figures credited to a person (payouts, expiries, the scorecard): a rep only
  ever gets rows credited to themself; a manager rows credited to anyone on deals of the teams
  they manage, and their own. So a rep never learns a colleague's or the team's totals.
"""

from django.db.models import Q

from teams.visibility import (
    managed_team_ids,
    opportunity_scope_q,
    opportunity_visibility_q,
    opportunity_visibility_scope,
)


def deal_q(viewer, prefix: str = "", *, team_ids: bool = False) -> Q:
    """``team_ids``: the viewer's teams read first and written as ids (see
    ``opportunity_visibility_arms``), so PostgreSQL plans a narrow read on its indexes."""
    return opportunity_visibility_q(viewer, prefix=prefix, team_ids=team_ids)


def credit_q(viewer, owner_field: str, prefix: str = "", *, team_ids: bool = False) -> Q:
    """Rows credited (through ``owner_field``) to someone the viewer may see figures for.
    ``team_ids`` as in ``deal_q`` (a rep managing no team is then credited their own rows only)."""
    if team_ids:
        return credit_scope_q(opportunity_visibility_scope(viewer), owner_field, prefix)
    if not (viewer and viewer.is_authenticated and viewer.is_active):
        return Q(pk__in=[])
    if viewer.is_crm_admin:
        return Q()
    return Q(**{owner_field: viewer}) | Q(**{f"{prefix}team__in": managed_team_ids(viewer)})


def deal_scope_q(scope: tuple, prefix: str = "") -> Q:
    """``deal_q`` with ``team_ids`` of any viewer with this ``opportunity_visibility_scope``."""
    return opportunity_scope_q(scope, prefix)


def credit_scope_q(scope: tuple, owner_field: str, prefix: str = "") -> Q:
    """``credit_q`` with ``team_ids`` of any viewer with this ``opportunity_visibility_scope``
    (an inactive viewer none, an admin all, else their own rows and their managed teams')."""
    if scope[0] == "none":
        return Q(pk__in=[])
    if scope[0] == "all":
        return Q()
    _kind, user_id, managed, _pool = scope
    own = Q(**{owner_field: user_id})
    return own | Q(**{f"{prefix}team__in": list(managed)}) if managed else own


def viewer_sees_team_figures(viewer) -> bool:
    """Managers and admins see other people's rows; a rep sees only their own."""
    return bool(viewer.is_crm_admin or viewer.managed_teams.exists())
