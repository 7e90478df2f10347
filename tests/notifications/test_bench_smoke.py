"""The expiry benchmark runs (tiny N, no timing asserted); the real run is bench/expire_benchmark.py."""

import pytest
from django.db import connection

from bench.expire_benchmark import run_benchmark
from opportunities.models import Opportunity, StatusChange


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the benchmark is PostgreSQL-only (generate_series, VACUUM, date arithmetic)",
)
@pytest.mark.django_db
def test_it_runs_the_expiry_benchmark_on_a_tiny_table():
    lines = []
    result = run_benchmark(total=300, overdue=30, do_vacuum=False, echo=lines.append)
    assert (result["total"], result["overdue"], result["history_rows"]) == (300, 30, 30)
    assert result["service_seconds"] > 0 and result["sql_seconds"] > 0
    assert any(line.startswith("ratio A / B") for line in lines)
    # Restored afterwards: every deal open again, no expiry history left behind.
    assert Opportunity.objects.filter(status="open").count() == 300
    assert not StatusChange.objects.filter(to_status="expired").exists()
