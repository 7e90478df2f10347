"""The benchmark's machinery on tiny data sets: it generates, times and agrees with its own
hand-written SQL — on its own generator's data and on the report scenario's (several teams and
policies, a dollar deal, an expired deal of the unassigned pool, a reopened win). Timing is not asserted here;
the generator and the SQL are PostgreSQL's."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from opportunities import services
from tests.factories import CustomerFactory, LeadSourceFactory
from tests.reports.scenario import MARCH, NOW, at

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark runs on PostgreSQL only"),
]
REPORTS = {"incentives", "sources", "expired", "pipeline", "forecast", "funnel", "scorecard"}


def test_it_generates_times_and_agrees_with_hand_written_sql():
    from bench.reports_benchmark import generate, markdown, run

    generate(300, now=timezone.now())
    summary = run(runs=1, period_days=365, echo=lambda line: None)
    assert summary["opportunities"] == 300
    assert {row["name"] for row in summary["results"]} == REPORTS
    assert all(row["agree"] for row in summary["results"]), summary["results"]
    assert "| incentives |" in markdown(summary)


def test_it_measures_the_reports_on_data_it_did_not_generate(report_scenario, admin, team, pipeline):
    from bench.reports_benchmark import measure_reports

    # The scenario plus a deal of the team's unassigned pool that expires (no one to credit).
    with time_machine.travel(at(3, 20), tick=False):
        services.opportunity_create(
            by=admin,
            title="Pool deal",
            customer=CustomerFactory(),
            pipeline=pipeline,
            source=LeadSourceFactory(),
            expected_close_date=datetime.date(2026, 3, 22),
            team=team,
            owner=None,
            amount="3000",
        )
    with time_machine.travel(at(3, 30), tick=False):
        services.opportunities_expire_overdue()

    with time_machine.travel(NOW, tick=False):
        rows = measure_reports(runs=2, start=MARCH[0], end=MARCH[1], echo=lambda line: None)

    assert [row["name"] for row in rows] == [
        "incentives",
        "sources",
        "expired",
        "pipeline",
        "forecast",
        "funnel",
        "scorecard",
    ]
    assert all(row["agree"] for row in rows), rows
    incentives = rows[0]
    assert len(incentives["selector_ms"]) == len(incentives["sql_ms"]) == 2
    assert incentives["queries"] == 2
    assert incentives["median_ms"] <= incentives["p95_ms"]
    assert {"median_ms", "p95_ms", "sql_median_ms", "ratio", "queries", "agree"} <= set(incentives)
    assert incentives["totals"]["won"] == "5"  # D1, D2, D4, D9, D11
    expired = rows[2]
    assert expired["totals"] == {"expired": "3", "expired_amount": "7000.00"}  # D7, D8, the pool's


@pytest.mark.django_db(transaction=True)
def test_it_agrees_with_hand_written_sql_on_the_shared_scale_data_set():
    """bench/scale.py times the reports on bench/dataset.py's data (20 teams, 5 pipelines, 60
    sources, many currencies, pooled deals), over a year: the two sides must agree there too."""
    from bench import dataset
    from bench.reports_benchmark import measure_reports
    from crm.dates import company_today

    dataset.generate(3000, echo=lambda *args: None)
    end = company_today()
    rows = measure_reports(runs=1, start=end - datetime.timedelta(days=365), end=end, echo=lambda line: None)

    assert len(rows) == 7
    assert all(row["agree"] for row in rows), [(row["name"], row["totals"], row["sql_totals"]) for row in rows]
