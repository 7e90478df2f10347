"""Pipeline and forecast on 10 April 2026. Open deals: D3 (rep, Quote 70 %, 5000, close date
5 April — slipped), D10 (rep, New 10 %, 1500, 20 May), D12 (team pool, New 10 %, 6000, 1 December)."""

import datetime
from decimal import Decimal

from reports.selectors import report_forecast, report_pipeline

D = Decimal


def test_it_sums_open_deals_per_stage(report_scenario, admin):
    report = report_pipeline(viewer=admin)
    assert [(row["name"], row["count"], row["amount"], row["weighted"]) for row in report.rows] == [
        ("New", 2, D("7500.00"), D("750.00")),
        ("Sample", 0, D("0.00"), D("0.00")),
        ("Quote", 1, D("5000.00"), D("3500.00")),
    ]
    assert report.totals == {"count": 3, "amount": D("12500.00"), "weighted": D("4250.00")}
    assert report.start == report.end == datetime.date(2026, 4, 10)


def test_it_buckets_the_forecast_by_close_month_with_slipped_deals_apart(report_scenario, admin):
    report = report_forecast(viewer=admin)
    assert [row["bucket"] for row in report.rows] == [
        "overdue",
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "later",
    ]
    figures = {row["bucket"]: (row["count"], row["amount"], row["weighted"]) for row in report.rows}
    assert figures["overdue"] == (1, D("5000.00"), D("3500.00"))
    assert figures["2026-04"] == (0, D("0.00"), D("0.00"))
    assert figures["2026-05"] == (1, D("1500.00"), D("150.00"))
    assert figures["later"] == (1, D("6000.00"), D("600.00"))
    assert (report.start, report.end) == (datetime.date(2026, 4, 10), datetime.date(2026, 9, 30))


def test_it_keeps_forecast_and_pipeline_totals_equal(report_scenario, admin, manager, rep):
    for viewer in (admin, manager, rep):
        assert report_forecast(viewer=viewer).totals == report_pipeline(viewer=viewer).totals


def test_it_scopes_the_pipeline(report_scenario, rep, manager, outsider_manager, team):
    assert report_pipeline(viewer=rep).totals == {"count": 2, "amount": D("6500.00"), "weighted": D("3650.00")}
    assert report_pipeline(viewer=manager).totals["count"] == 3  # with the team's pool deal
    assert report_pipeline(viewer=outsider_manager).totals == {"count": 0, "amount": D("0.00"), "weighted": D("0.00")}
    assert report_pipeline(viewer=manager, team=team).totals["count"] == 3


def test_it_shows_a_pool_deal_to_a_rep_whose_team_allows_the_pool(report_scenario, rep, team):
    """Reports follow teams.visibility: the board shows the pool to the rep, so the totals do too."""
    team.reps_see_pool = True
    team.save()
    assert report_pipeline(viewer=rep).totals["count"] == 3
