"""The benchmark's machinery on a tiny data set: it generates, times and agrees with its own
hand-written SQL. Timing is not asserted here; the generator and the SQL are PostgreSQL's."""

import pytest
from django.db import connection
from django.utils import timezone

pytestmark = [pytest.mark.django_db]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark runs on PostgreSQL only")
def test_it_generates_times_and_agrees_with_hand_written_sql():
    from bench.reports_benchmark import generate, markdown, run

    generate(300, now=timezone.now())
    summary = run(runs=1, period_days=365)
    assert summary["opportunities"] == 300
    assert {row["report"] for row in summary["results"]} == {
        "incentives",
        "sources",
        "expired",
        "pipeline",
        "forecast",
        "funnel",
        "scorecard",
    }
    assert all(row["totals_agree"] for row in summary["results"]), summary["results"]
    assert "| incentives |" in markdown(summary)
