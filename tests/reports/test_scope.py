"""Who sees what in the reports: a rep only their own rows (no team totals anywhere), a manager
their teams, an outsider manager nothing of another team, an admin everything."""

from decimal import Decimal

import pytest

from reports import selectors
from reports.periods import Period
from tests.reports.scenario import MARCH

PERIOD = Period(*MARCH)
PER_REP = {
    "incentives": selectors.report_incentives,
    "expired": selectors.report_expired,
    "scorecard": selectors.report_scorecard,
}


@pytest.mark.parametrize("name", sorted(PER_REP))
def test_it_shows_a_rep_only_their_own_rows(report_scenario, rep, name):
    report = PER_REP[name](viewer=rep, period=PERIOD)
    assert [row["owner"] for row in report.rows] == [rep.pk]


def test_it_never_gives_a_rep_team_totals(report_scenario, rep):
    """Every total a rep sees is the total of their own deals only."""
    assert selectors.report_incentives(viewer=rep, period=PERIOD).totals["payout"] == Decimal("4180.00")
    assert selectors.report_expired(viewer=rep, period=PERIOD).totals["closed"] == 4
    assert selectors.report_scorecard(viewer=rep, period=PERIOD).totals["won"] == 2
    assert selectors.report_sources(viewer=rep, period=PERIOD).totals["leads"] == 6  # team: 10
    assert selectors.report_pipeline(viewer=rep).totals["count"] == 2  # team: 3
    assert selectors.report_forecast(viewer=rep).totals["count"] == 2
    assert selectors.report_funnel(viewer=rep, period=PERIOD).totals["deals"] == 6


def test_it_shows_an_outsider_manager_nothing_of_another_team(report_scenario, outsider_manager, rep, team):
    report = selectors.report_incentives(viewer=outsider_manager, period=PERIOD)
    assert rep.pk not in {row["owner"] for row in report.rows}
    titles = {line["title"] for row in report.rows for line in row["lines"]}
    assert titles == {"D9", "D11"}  # other_team's deals only
    assert selectors.report_sources(viewer=outsider_manager, period=PERIOD).totals["leads"] == 2
    assert selectors.report_pipeline(viewer=outsider_manager).totals["count"] == 0
    assert selectors.report_funnel(viewer=outsider_manager, period=PERIOD).totals["deals"] == 2
    expired_titles = {
        line["title"]
        for row in selectors.report_expired(viewer=outsider_manager, period=PERIOD).rows
        for line in row["lines"]
    }
    assert expired_titles == set()
    assert selectors.report_incentives(viewer=outsider_manager, period=PERIOD, team=team).rows == []


def test_it_shows_an_admin_everything(report_scenario, admin):
    assert selectors.report_sources(viewer=admin, period=PERIOD).totals["leads"] == 12
    assert selectors.report_incentives(viewer=admin, period=PERIOD).totals["won"] == 5


def test_it_shows_a_deactivated_user_nothing(report_scenario, manager):
    manager.is_active = False
    manager.save()
    assert selectors.report_incentives(viewer=manager, period=PERIOD).rows == []
    assert selectors.report_sources(viewer=manager, period=PERIOD).totals["leads"] == 0
    assert selectors.report_pipeline(viewer=manager).totals["count"] == 0


def test_it_refuses_a_team_the_viewer_does_not_manage(report_scenario, client, rep, outsider_manager, team):
    client.force_login(outsider_manager)
    response = client.get("/api/reports/incentives/", {"team": team.pk})
    assert response.status_code == 400
    assert "team" in response.json()["errors"]
    client.force_login(rep)
    assert client.get("/api/reports/incentives/", {"team": team.pk}).status_code == 400


def test_it_keeps_a_reps_chart_to_their_own_rows(report_scenario, client, rep):
    client.force_login(rep)
    for slug in ("incentives", "expired", "scorecard"):
        response = client.get(f"/reports/{slug}/", {"start": "2026-03-01", "end": "2026-03-31"})
        assert response.context["chart"]["labels"] == ["rep"], slug
