"""Rep scorecard for March 2026 (tests/reports/scenario.py), on 10 April."""

from decimal import Decimal

from reports.periods import Period
from reports.selectors import report_incentives, report_scorecard
from tests.reports.scenario import MARCH, at

D = Decimal
KEYS = ("open", "won", "lost", "expired", "win_rate", "avg_cycle_days", "payout", "last_activity_at")


def card(row):
    return tuple(row[key] for key in KEYS)


def test_it_scores_each_rep(report_scenario, admin):
    report = report_scorecard(viewer=admin, period=Period(*MARCH))
    rows = {row["owner_name"]: row for row in report.rows}
    # rep: open D3, D10; won D1 (8 d), D2 (17 d); lost D6; expired D7; last activity 15 March.
    assert card(rows["rep"]) == (2, 2, 1, 1, D("0.5000"), D("12.5"), D("4180.00"), at(3, 15))
    # other_rep: won D4 (26.4993 d) and D11 (3 d), expired D8.
    assert card(rows["other_rep"]) == (0, 2, 0, 1, D("0.6667"), D("14.7"), D("1800.00"), None)
    assert card(rows["outsider_rep"]) == (0, 1, 0, 0, D("1.0000"), D("8.0"), D("1400.00"), None)
    assert card(report.totals) == (2, 5, 1, 2, D("0.6250"), D("12.5"), D("7380.00"), at(3, 15))


def test_it_pays_the_same_as_the_incentive_report(report_scenario, admin, manager, rep):
    for viewer in (admin, manager, rep):
        scorecard = report_scorecard(viewer=viewer, period=Period(*MARCH))
        incentives = report_incentives(viewer=viewer, period=Period(*MARCH))
        assert scorecard.totals["payout"] == incentives.totals["payout"]
        assert {r["owner"]: r["payout"] for r in scorecard.rows if r["won"]} == {
            r["owner"]: r["payout"] for r in incentives.rows
        }


def test_it_follows_a_rep_who_changed_teams(report_scenario, manager, outsider_manager):
    """other_rep moved to other_team on 21 March: each manager sees the work done in their team."""
    managed = {row["owner_name"]: row for row in report_scorecard(viewer=manager, period=Period(*MARCH)).rows}
    assert set(managed) == {"rep", "other_rep"}
    assert card(managed["other_rep"]) == (0, 1, 0, 1, D("0.5000"), D("26.5"), D("600.00"), None)
    outsider = {row["owner_name"]: row for row in report_scorecard(viewer=outsider_manager, period=Period(*MARCH)).rows}
    assert set(outsider) == {"other_rep", "outsider_rep"}
    assert card(outsider["other_rep"]) == (0, 1, 0, 0, D("1.0000"), D("3.0"), D("1200.00"), None)


def test_it_shows_a_rep_only_their_own_card(report_scenario, rep):
    report = report_scorecard(viewer=rep, period=Period(*MARCH))
    assert [row["owner_name"] for row in report.rows] == ["rep"]
    assert card(report.totals) == card(report.rows[0])


def test_it_lists_idle_team_members_for_a_manager(manager, team, rep, other_rep):
    report = report_scorecard(viewer=manager, period=Period(*MARCH))
    assert [(row["owner_name"], row["won"], row["win_rate"], row["payout"]) for row in report.rows] == [
        ("other_rep", 0, None, D("0.00")),
        ("rep", 0, None, D("0.00")),
    ]
    assert report.totals["win_rate"] is None
