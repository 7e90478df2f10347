"""The throughput benchmark runs end to end (2 s of load, no timing asserted); the real run is
bench/throughput.py. gunicorn serves the test database, so the data must be committed."""

import pytest
from django.db import connection

from bench.throughput import (
    WrkUnavailable,
    access_log_statuses,
    ensure_wrk,
    measure_throughput,
    parse_wrk_output,
)
from tests.factories import OpportunityFactory, TeamFactory, UserFactory

WRK_OUTPUT = """\
Running 2s test @ http://127.0.0.1:40000/opportunities/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   120.50ms   20.10ms   1.20s    80.00%
    Req/Sec    33.00      5.00    40.00     70.00%
  Latency Distribution
     50%  110.00ms
     75%  130.00ms
     90%  150.00ms
     99%    1.10s
  132 requests in 2.01s, 6.10MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:     65.67
Transfer/sec:      3.03MB
"""


def test_it_reads_wrk_output():
    parsed = parse_wrk_output(WRK_OUTPUT)
    assert parsed["rps"] == 65.67
    assert parsed["requests"] == 132
    assert parsed["latency_ms"] == {
        "avg": 120.5,
        "max": 1200.0,
        "p50": 110.0,
        "p75": 130.0,
        "p90": 150.0,
        "p99": 1100.0,
    }
    assert parsed["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 2}
    assert parsed["non_2xx_3xx"] == 3


def test_it_reads_wrk_output_without_errors():
    clean = "\n".join(line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    parsed = parse_wrk_output(clean)
    assert parsed["non_2xx_3xx"] == 0
    assert set(parsed["socket_errors"].values()) == {0}


def test_it_counts_the_statuses_of_each_path_in_the_access_log(tmp_path):
    """wrk counts a 3xx as a success; the access log is how a redirect under load is caught."""
    log = tmp_path / "access.log"
    log.write_text(
        '127.0.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /opportunities/ HTTP/1.1" 200 46553 "-" "-"\n'
        '127.0.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /opportunities/ HTTP/1.1" 302 0 "-" "-"\n'
        '127.0.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /bench/trivial/ HTTP/1.1" 200 2 "-" "-"\n'
    )
    statuses = access_log_statuses(log)
    assert statuses == {"/opportunities/": {"200": 1, "302": 1}, "/bench/trivial/": {"200": 1}}


@pytest.fixture
def wrk():
    try:
        return ensure_wrk()
    except WrkUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the throughput benchmark runs gunicorn against PostgreSQL only"
)
@pytest.mark.django_db(transaction=True)
def test_it_measures_the_opportunity_list_against_the_trivial_view(wrk):
    rep = UserFactory(username="bench_rep")
    team = TeamFactory(members=[rep])
    OpportunityFactory.create_batch(3, owner=rep, team=team)
    lines = []

    result = measure_throughput(username="bench_rep", duration=2, connections=4, echo=lines.append)

    assert result["page_rps"] > 0 and result["trivial_rps"] > 0
    assert result["ratio"] == pytest.approx(result["page_rps"] / result["trivial_rps"], abs=1e-4)
    assert result["page_requests"] > 0 and result["trivial_requests"] > 0
    # The page as production serves it (kept per snapshot), then from a server rendering it each time.
    assert result["rendered_rps"] > 0 and result["rendered_requests"] > 0
    assert result["rendered_ratio"] == pytest.approx(result["rendered_rps"] / result["trivial_rps"], abs=1e-4)
    assert (result["workers"], result["connections"], result["duration_s"]) == (2, 4, 2)
    assert {"p50", "p90", "p99"} <= result["page_latency_ms"].keys()
    # Checked before loading, and every response under load was a 200 (else it raises).
    assert "/opportunities/: 200, signed in as bench_rep" in lines
