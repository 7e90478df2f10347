"""Who a user may hand deals to, and who takes leads."""

import pytest

from teams.selectors import team_active_reps, teams_managed_by, users_assignable_by

pytestmark = pytest.mark.django_db


def test_it_lists_the_teams_a_user_manages(manager, outsider_manager, admin, rep, team, other_team):
    assert list(teams_managed_by(user=manager)) == [team]
    assert list(teams_managed_by(user=outsider_manager)) == [other_team]
    assert not teams_managed_by(user=rep).exists()
    assert set(teams_managed_by(user=admin)) == {team, other_team}


def test_it_offers_the_active_members_of_the_managed_teams(
    manager, rep, other_rep, inactive_rep, outsider_rep, other_team, admin
):
    assert list(users_assignable_by(user=manager)) == [other_rep, rep]  # by username
    assert set(users_assignable_by(user=admin)) == {rep, other_rep, outsider_rep}


def test_it_lists_the_active_reps_in_a_stable_order(team, rep, other_rep, inactive_rep):
    assert team_active_reps(team=team) == sorted([rep, other_rep], key=lambda user: user.pk)


def test_it_counts_each_members_deals_in_the_teams_only(manager, rep, other_rep, inactive_rep, other_team, make_deal):
    import datetime

    from django.utils import timezone

    from crm.dates import company_today
    from opportunities.models import Opportunity
    from teams.selectors import team_members_with_deal_counts

    today = company_today()
    closed = {"closed_at": timezone.now()}
    make_deal(owner=rep, expected_close_date=today + datetime.timedelta(days=3))
    make_deal(owner=rep, expected_close_date=today - datetime.timedelta(days=1))  # overdue
    make_deal(owner=rep, status=Opportunity.Status.WON, **closed)
    make_deal(owner=rep, status=Opportunity.Status.EXPIRED, **closed)
    make_deal(owner=rep, status=Opportunity.Status.LOST, **closed)  # not counted
    make_deal(owner=rep, team=other_team, expected_close_date=today - datetime.timedelta(days=1))  # not this team's
    make_deal(owner=None)  # the pool: nobody's line

    members = team_members_with_deal_counts(teams=teams_managed_by(user=manager))
    figures = {m.username: (m.open_count, m.overdue_count, m.won_count, m.expired_count) for m in members}
    assert figures == {"rep": (2, 1, 1, 1), "other_rep": (0, 0, 0, 0)}
    with_inactive = team_members_with_deal_counts(teams=teams_managed_by(user=manager), include_inactive=True)
    assert inactive_rep.username in {m.username for m in with_inactive}


def test_it_counts_each_members_deals_without_grouping_them(manager):
    """Every row a member's count reads has that member as owner: grouping them by owner only
    cost PostgreSQL time (three times the index read), so each count is a plain COUNT(*)."""
    from teams.selectors import team_members_with_deal_counts

    sql = str(team_members_with_deal_counts(teams=teams_managed_by(user=manager)).query)
    assert sql.count("SELECT COUNT(*) FROM") == 4
    assert "GROUP BY" not in sql
