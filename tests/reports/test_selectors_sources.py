"""Lead-source figures against the March 2026 scenario (tests/reports/scenario.py).

Leads created in March and their status on 10 April:
S1 2026春季广交会 (12000): D1 won 10000, D3 open 5000 @70%, D4 won 20000, D6 lost, D9 won 8000, D12 open 6000 @10%
S2 阿里巴巴国际站 (5000): D2 won 1000 USD = 7100, D5 won 3000, D7 expired
S3 Referral (0): D8 expired, D11 won 2000
S4 上海产品博览会 (3000): D10 open 1500 @10%
"""

from decimal import Decimal

from reports.periods import Period
from reports.selectors import report_sources
from sources.models import LeadSource
from tests.reports.scenario import MARCH

D = Decimal
FIGURES = (
    "leads",
    "open",
    "won",
    "lost",
    "expired",
    "conversion_rate",
    "win_rate",
    "won_amount",
    "weighted_pipeline",
    "avg_cycle_days",
    "cost",
    "cost_per_lead",
    "cost_per_win",
    "roi",
)


def figures(row):
    return tuple(row[key] for key in FIGURES)


def test_it_computes_every_figure_per_source(report_scenario, admin):
    rows = {row["name"]: row for row in report_sources(viewer=admin, period=Period(*MARCH)).rows}
    # cycle: D1 8 days, D4 26 d 11 h 59 min = 26.4993, D9 8 days → 14.1664 → 14.2
    # roi: (38000 − 12000) / 12000 = 2.1667
    assert figures(rows["2026春季广交会"]) == (
        6,
        2,
        3,
        1,
        0,
        D("0.5000"),
        D("0.7500"),
        D("38000.00"),
        D("4100.00"),
        D("14.2"),
        D("12000.00"),
        D("2000.00"),
        D("4000.00"),
        D("2.1667"),
    )
    # USD deal counted in CNY: 1000 × 7.1 = 7100; cycle (17 + 25.5833) / 2 = 21.2917 → 21.3
    assert figures(rows["阿里巴巴国际站"]) == (
        3,
        0,
        2,
        0,
        1,
        D("0.6667"),
        D("0.6667"),
        D("10100.00"),
        D("0.00"),
        D("21.3"),
        D("5000.00"),
        D("1666.67"),
        D("2500.00"),
        D("1.0200"),
    )
    # Zero cost: cost per lead/win are 0, ROI has no denominator → null.
    assert figures(rows["Referral"]) == (
        2,
        0,
        1,
        0,
        1,
        D("0.5000"),
        D("0.5000"),
        D("2000.00"),
        D("0.00"),
        D("3.0"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
        None,
    )
    # Nothing closed, nothing won: win rate, cycle and cost per win are null; ROI −100 %.
    assert figures(rows["上海产品博览会"]) == (
        1,
        1,
        0,
        0,
        0,
        D("0.0000"),
        None,
        D("0.00"),
        D("150.00"),
        None,
        D("3000.00"),
        D("3000.00"),
        None,
        D("-1.0000"),
    )
    assert rows["2026春季广交会"]["channel"] == LeadSource.Channel.TRADE_SHOW


def test_it_totals_and_rolls_up_per_channel(report_scenario, admin):
    report = report_sources(viewer=admin, period=Period(*MARCH))
    # cost: each source with a lead counted once: 12000 + 5000 + 0 + 3000.
    # cycle: (8 + 26.4993 + 8 + 17 + 25.5833 + 3) / 6 = 14.6804 → 14.7
    assert figures(report.totals) == (
        12,
        3,
        6,
        1,
        2,
        D("0.5000"),
        D("0.6667"),
        D("50100.00"),
        D("4250.00"),
        D("14.7"),
        D("20000.00"),
        D("1666.67"),
        D("3333.33"),
        D("1.5050"),
    )
    channels = {row["channel"]: row for row in report.extra["channels"]}
    assert figures(channels["trade_show"]) == (
        7,
        3,
        3,
        1,
        0,
        D("0.4286"),
        D("0.7500"),
        D("38000.00"),
        D("4250.00"),
        D("14.2"),
        D("15000.00"),
        D("2142.86"),
        D("5000.00"),
        D("1.5333"),
    )
    assert figures(channels["referral"])[-1] is None
    assert set(channels) == {"trade_show", "online_platform", "referral"}


def test_it_filters_by_channel(report_scenario, admin):
    report = report_sources(viewer=admin, period=Period(*MARCH), channel=LeadSource.Channel.TRADE_SHOW)
    assert {row["name"] for row in report.rows} == {"2026春季广交会", "上海产品博览会"}
    assert (report.totals["leads"], report.totals["cost"]) == (7, D("15000.00"))


def test_it_counts_only_the_viewers_leads(report_scenario, manager, rep):
    period = Period(*MARCH)
    managed = {row["name"]: row for row in report_sources(viewer=manager, period=period).rows}
    # team only: D9 (other_team) and D11 (other_team) are not the manager's.
    assert figures(managed["2026春季广交会"])[:5] == (5, 2, 2, 1, 0)
    assert managed["2026春季广交会"]["roi"] == D("1.5000")  # (30000 − 12000) / 12000
    assert "Referral" in managed  # D8
    own = report_sources(viewer=rep, period=period)
    # rep: D1, D3, D6 (S1), D2, D7 (S2), D10 (S4); not the pool deal D12.
    assert {row["name"]: row["leads"] for row in own.rows} == {
        "2026春季广交会": 3,
        "阿里巴巴国际站": 2,
        "上海产品博览会": 1,
    }
    assert own.totals["leads"] == 6
    assert own.totals["weighted_pipeline"] == D("3650.00")  # D3 3500 + D10 150


def test_it_gives_nulls_not_errors_for_an_empty_period(admin, source):
    report = report_sources(viewer=admin, period=Period(*MARCH))
    assert report.rows == [] and report.extra["channels"] == []
    assert figures(report.totals) == (
        0,
        0,
        0,
        0,
        0,
        None,
        None,
        D("0.00"),
        D("0.00"),
        None,
        D("0.00"),
        None,
        None,
        None,
    )
