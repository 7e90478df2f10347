"""Funnel and stage time for deals created in March 2026 (12 deals, stages New → Sample → Quote → Won).

Furthest stage reached: D1, D2, D3, D4, D5, D9, D11 Won; D6 Sample; D7, D8, D10, D12 New.
Completed stays in New (days): D1 3, D2 17, D3 2, D4 26.4993, D5 25.5833, D6 2, D9 8, D11 3;
Sample: D6 6; Quote: D1 5, D3 6 (its second stay, after the reopen, is still going on)."""

import datetime
from decimal import Decimal

from reports.periods import Period
from reports.selectors import report_funnel
from tests.reports.scenario import MARCH

D = Decimal


def rows_of(report):
    return [
        (r["name"], r["reached"], r["conversion_to_next"], r["stays"], r["avg_days"], r["median_days"])
        for r in report.rows
    ]


def test_it_counts_reached_stages_conversion_and_days(report_scenario, admin):
    report = report_funnel(viewer=admin, period=Period(*MARCH))
    assert rows_of(report) == [
        # avg (2+2+3+3+8+17+25.5833+26.4993)/8 = 10.8853; median of 8 = (3 + 8)/2
        ("New", 12, D("0.6667"), 8, D("10.9"), D("5.5")),
        ("Sample", 8, D("0.8750"), 1, D("6.0"), D("6.0")),
        ("Quote", 7, D("1.0000"), 2, D("5.5"), D("5.5")),
        ("Won", 7, None, None, None, None),
    ]
    assert report.totals == {"deals": 12, "won": 7}
    assert report.extra["pipeline"]["name"] == "Main pipeline"


def test_it_takes_the_middle_value_for_an_odd_count(report_scenario, admin):
    # Created 2–6 March: D1..D5; New stays 3, 17, 2, 26.4993, 25.5833 → median 17, avg 74.0826 / 5 = 14.8165
    report = report_funnel(viewer=admin, period=Period(datetime.date(2026, 3, 2), datetime.date(2026, 3, 6)))
    assert rows_of(report)[0] == ("New", 5, D("1.0000"), 5, D("14.8"), D("17.0"))


def test_it_scopes_the_funnel(report_scenario, rep, outsider_manager):
    # rep's deals: D1, D2, D3, D6, D7, D10 → New stays 3, 17, 2, 2 → median 2.5
    assert rows_of(report_funnel(viewer=rep, period=Period(*MARCH)))[0] == (
        "New",
        6,
        D("0.6667"),
        4,
        D("6.0"),
        D("2.5"),
    )
    # other_team: D9, D11
    assert rows_of(report_funnel(viewer=outsider_manager, period=Period(*MARCH)))[0][:2] == ("New", 2)


def test_it_answers_an_empty_period(admin, pipeline):
    report = report_funnel(viewer=admin, period=Period(*MARCH))
    assert rows_of(report)[0] == ("New", 0, None, 0, None, None)
    assert report.totals == {"deals": 0, "won": 0}
