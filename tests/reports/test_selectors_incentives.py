"""Incentive payouts against the hand-computed March 2026 scenario (tests/reports/scenario.py).

Policy: default 1000 × difficulty before 15 March; from 15 March 1200 × difficulty, +300 new
customer, +200 new product."""

import datetime
from decimal import Decimal

import time_machine

from opportunities import services
from reports import selectors
from reports.models import IncentivePolicy
from reports.periods import Period
from reports.selectors import report_incentives
from tests.factories import CustomerFactory
from tests.reports.scenario import MARCH, at


def by_name(report):
    return {row["owner_name"]: row for row in report.rows}


def test_it_pays_each_win_by_the_policy_in_force_that_day(report_scenario, admin):
    report = report_incentives(viewer=admin, period=Period(*MARCH))
    rows = by_name(report)
    # rep: D1 1000 × 2.50 = 2500.00 (before the 15 March policy); D2 1200 × 1.15 + 300 = 1680.00.
    assert [
        (line["title"], line["base"], line["difficulty"], line["bonus"], line["payout"])
        for line in rows["rep"]["lines"]
    ] == [
        ("D1", Decimal("1000.00"), Decimal("2.50"), Decimal("0.00"), Decimal("2500.00")),
        ("D2", Decimal("1200.00"), Decimal("1.15"), Decimal("300.00"), Decimal("1680.00")),
    ]
    assert (rows["rep"]["won"], rows["rep"]["payout"]) == (2, Decimal("4180.00"))
    # other_rep: D11 1200 × 1.00 (in other_team after the move) and D4 1200 × 0.50 at 23:59 on 31 March.
    assert [(line["title"], line["payout"]) for line in rows["other_rep"]["lines"]] == [
        ("D11", Decimal("1200.00")),
        ("D4", Decimal("600.00")),
    ]
    assert (rows["other_rep"]["won"], rows["other_rep"]["payout"]) == (2, Decimal("1800.00"))
    # outsider_rep: D9 1200 × 1.00 + 200 new-product bonus.
    assert (rows["outsider_rep"]["won"], rows["outsider_rep"]["payout"]) == (1, Decimal("1400.00"))
    assert report.totals == {"won": 5, "payout": Decimal("7380.00"), "currency": "CNY"}
    assert [row["owner_name"] for row in report.rows] == ["rep", "other_rep", "outsider_rep"]


def test_it_takes_a_reopened_win_out(report_scenario, admin):
    titles = [
        line["title"] for row in report_incentives(viewer=admin, period=Period(*MARCH)).rows for line in row["lines"]
    ]
    assert "D3" not in titles  # won 12 March, reopened 14 March


def test_it_splits_periods_at_midnight_shanghai_time(report_scenario, admin):
    march = report_incentives(viewer=admin, period=Period(*MARCH))
    april = report_incentives(viewer=admin, period=Period(datetime.date(2026, 4, 1), datetime.date(2026, 4, 30)))
    march_titles = {line["title"] for row in march.rows for line in row["lines"]}
    assert "D4" in march_titles  # 23:59 on 31 March Shanghai = 15:59 UTC
    assert "D5" not in march_titles  # 00:00 on 1 April Shanghai = 16:00 UTC on 31 March
    assert [(line["title"], line["payout"]) for row in april.rows for line in row["lines"]] == [
        ("D5", Decimal("1200.00"))
    ]
    assert april.totals["payout"] == Decimal("1200.00")


def test_it_keeps_the_default_policy_for_wins_before_the_first_policy(report_scenario, admin):
    february = report_incentives(viewer=admin, period=Period(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)))
    assert [(row["owner_name"], row["payout"]) for row in february.rows] == [("rep", Decimal("1000.00"))]


def test_it_scopes_payouts_per_viewer(report_scenario, rep, manager, outsider_manager, outsider_rep):
    period = Period(*MARCH)
    # manager: team deals only — other_rep's D4 (team) but not D11 (other_team).
    managed = report_incentives(viewer=manager, period=period)
    assert {row["owner_name"]: row["payout"] for row in managed.rows} == {
        "rep": Decimal("4180.00"),
        "other_rep": Decimal("600.00"),
    }
    assert managed.totals["payout"] == Decimal("4780.00")
    outsider = report_incentives(viewer=outsider_manager, period=period)
    assert {row["owner_name"]: row["payout"] for row in outsider.rows} == {
        "other_rep": Decimal("1200.00"),
        "outsider_rep": Decimal("1400.00"),
    }
    # A rep sees their own row only, and totals that are their own.
    own = report_incentives(viewer=rep, period=period)
    assert [row["owner_name"] for row in own.rows] == ["rep"]
    assert own.totals == {"won": 2, "payout": Decimal("4180.00"), "currency": "CNY"}
    assert report_incentives(viewer=outsider_rep, period=period).totals["payout"] == Decimal("1400.00")


def test_it_filters_by_team(report_scenario, admin, other_team):
    report = report_incentives(viewer=admin, period=Period(*MARCH), team=other_team)
    assert {row["owner_name"]: row["payout"] for row in report.rows} == {
        "other_rep": Decimal("1200.00"),
        "outsider_rep": Decimal("1400.00"),
    }


def _win_one(*, admin, rep, team, pipeline, source, difficulty, moment, **flags):
    with time_machine.travel(moment, tick=False):
        deal = services.opportunity_create(
            by=admin,
            title="Solo",
            customer=CustomerFactory(),
            pipeline=pipeline,
            source=source,
            expected_close_date=moment.date() + datetime.timedelta(days=5),
            team=team,
            owner=rep,
            amount="100",
            difficulty=difficulty,
            **flags,
        )
        services.opportunity_close(opportunity=deal, outcome="won", by=admin)


def test_it_pays_the_seed_example_base_1000_times_2_50(admin, rep, team, pipeline, source):
    _win_one(admin=admin, rep=rep, team=team, pipeline=pipeline, source=source, difficulty="2.50", moment=at(3, 3))
    report = report_incentives(viewer=admin, period=Period(*MARCH))
    assert report.rows[0]["lines"][0]["payout"] == Decimal("2500.00")


def test_it_rounds_half_a_cent_up(admin, rep, team, pipeline, source):
    # 1000.05 × 1.10 = 1100.055 → 1100.06 (exact integer-cent arithmetic on every database).
    IncentivePolicy.objects.create(effective_from=datetime.date(2026, 1, 1), base_reward=Decimal("1000.05"))
    _win_one(admin=admin, rep=rep, team=team, pipeline=pipeline, source=source, difficulty="1.10", moment=at(3, 3))
    report = report_incentives(viewer=admin, period=Period(*MARCH))
    assert report.rows[0]["lines"][0]["payout"] == Decimal("1100.06")


def test_it_adds_both_bonuses_unscaled(admin, rep, team, pipeline, source):
    IncentivePolicy.objects.create(
        effective_from=datetime.date(2026, 1, 1),
        base_reward=Decimal("1000"),
        new_customer_bonus=Decimal("300"),
        new_product_bonus=Decimal("200"),
    )
    _win_one(
        admin=admin,
        rep=rep,
        team=team,
        pipeline=pipeline,
        source=source,
        difficulty="0.80",
        moment=at(3, 3),
        is_new_customer=True,
        is_new_product=True,
    )
    line = report_incentives(viewer=admin, period=Period(*MARCH)).rows[0]["lines"][0]
    assert (line["base"], line["bonus"], line["payout"]) == (Decimal("1000.00"), Decimal("500.00"), Decimal("1300.00"))


def test_it_answers_an_empty_period_with_zero(admin):
    report = report_incentives(viewer=admin, period=Period(*MARCH))
    assert report.rows == []
    assert report.totals == {"won": 0, "payout": Decimal("0.00"), "currency": "CNY"}


def test_it_lists_a_reps_lines_by_the_time_of_the_win_not_the_order_recorded(
    admin, rep, other_rep, team, pipeline, source
):
    # Recorded in this order; won on 20, 5 and 12 March.
    for who, difficulty, day in ((rep, "1.00", 20), (other_rep, "2.00", 9), (rep, "1.50", 5), (rep, "0.50", 12)):
        _win_one(
            admin=admin, rep=who, team=team, pipeline=pipeline, source=source, difficulty=difficulty, moment=at(3, day)
        )
    report = report_incentives(viewer=admin, period=Period(*MARCH))
    rows = by_name(report)
    assert [(line["won_at"], line["difficulty"]) for line in rows["rep"]["lines"]] == [
        (at(3, 5), Decimal("1.50")),
        (at(3, 12), Decimal("0.50")),
        (at(3, 20), Decimal("1.00")),
    ]
    assert (rows["rep"]["won"], rows["rep"]["payout"]) == (3, Decimal("3000.00"))
    assert (rows["other_rep"]["won"], rows["other_rep"]["payout"]) == (1, Decimal("2000.00"))
    assert report.totals == {"won": 4, "payout": Decimal("5000.00"), "currency": "CNY"}
    assert [row["owner_name"] for row in report.rows] == ["rep", "other_rep"]


def test_it_puts_a_reps_lines_back_in_order_if_the_statement_returned_them_out_of_it(
    admin, rep, other_rep, team, pipeline, source, monkeypatch
):
    # PostgreSQL returns the WITH query's lines as it wrote them, in order; SQL does not promise
    # it. Were they ever returned otherwise (here: lines reversed, reps interleaved), the report
    # must be the same.
    for who, difficulty, day in ((rep, "1.00", 20), (other_rep, "2.00", 9), (rep, "1.50", 5), (rep, "0.50", 12)):
        _win_one(
            admin=admin, rep=who, team=team, pipeline=pipeline, source=source, difficulty=difficulty, moment=at(3, day)
        )
    expected = report_incentives(viewer=admin, period=Period(*MARCH))
    statement = selectors._incentive_lines_and_sums

    def shuffled(lines):
        rows = statement(lines)
        line_rows = [row for row in rows if row[1] is not None]
        return line_rows[::-1] + [row for row in rows if row[1] is None]

    monkeypatch.setattr(selectors, "_incentive_lines_and_sums", shuffled)
    assert report_incentives(viewer=admin, period=Period(*MARCH)) == expected


def test_it_asks_the_database_only_about_the_policies_of_the_period(report_scenario, admin):
    """April lies under one policy (15 March), February under none (before it): their payouts
    are constants; March has two (the default, then 15 March) and keeps its CASE. The figures
    are the tests above."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def incentive_sql(period: Period) -> str:
        with CaptureQueriesContext(connection) as captured:
            selectors.incentive_totals(viewer=admin, period=period)
        return captured.captured_queries[-1]["sql"]

    assert "CASE" not in incentive_sql(Period(datetime.date(2026, 4, 1), datetime.date(2026, 4, 30)))
    assert "CASE" not in incentive_sql(Period(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)))
    assert "CASE" in incentive_sql(Period(*MARCH))
