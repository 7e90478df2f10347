"""Each report runs a fixed number of queries, whatever the number of deals."""

import datetime

import pytest
import time_machine

from opportunities import services
from reports import selectors
from reports.periods import Period
from tests.factories import CustomerFactory, LeadSourceFactory
from tests.reports.scenario import MARCH, NOW, at

PERIOD = Period(*MARCH)
# (report, call, queries for an admin, for a manager)
CASES = [
    ("incentives", lambda v: selectors.report_incentives(viewer=v, period=PERIOD), 2, 2),
    ("sources", lambda v: selectors.report_sources(viewer=v, period=PERIOD), 1, 1),
    ("expired", lambda v: selectors.report_expired(viewer=v, period=PERIOD), 2, 2),
    ("pipeline", lambda v: selectors.report_pipeline(viewer=v), 2, 2),
    ("forecast", lambda v: selectors.report_forecast(viewer=v), 1, 1),
    ("funnel", lambda v: selectors.report_funnel(viewer=v, period=PERIOD), 4, 4),
    ("scorecard", lambda v: selectors.report_scorecard(viewer=v, period=PERIOD), 5, 6),
]


def add_more_deals(*, admin, reps, team, pipeline, lost_reason, count=12):
    """More deals of every outcome, over several sources, in March."""
    sources = [LeadSourceFactory() for _ in range(3)]
    customer = CustomerFactory()
    for i in range(count):
        moment = at(3, 2 + i)
        with time_machine.travel(moment, tick=False):
            deal = services.opportunity_create(
                by=admin,
                title=f"More {i}",
                customer=customer,
                pipeline=pipeline,
                source=sources[i % 3],
                expected_close_date=moment.date() + datetime.timedelta(days=3),
                team=team,
                owner=reps[i % len(reps)],
                amount=str(1000 + i),
                difficulty="1.50",
            )
        with time_machine.travel(moment + datetime.timedelta(days=1), tick=False):
            if i % 3 == 0:
                services.opportunity_close(opportunity=deal, outcome="won", by=admin)
            elif i % 3 == 1:
                services.opportunity_close(opportunity=deal, outcome="lost", by=admin, lost_reason=lost_reason)
    with time_machine.travel(at(3, 30), tick=False):
        services.opportunities_expire_overdue()


@pytest.mark.parametrize(("name", "call", "admin_queries", "manager_queries"), CASES, ids=[c[0] for c in CASES])
def test_it_runs_the_same_queries_for_few_and_many_deals(
    report_scenario,
    django_assert_num_queries,
    admin,
    manager,
    rep,
    team,
    pipeline,
    lost_reason,
    name,
    call,
    admin_queries,
    manager_queries,
):
    with django_assert_num_queries(admin_queries):
        few = call(admin)
    with django_assert_num_queries(manager_queries):
        call(manager)
    add_more_deals(admin=admin, reps=[rep, *team.members.all()], team=team, pipeline=pipeline, lost_reason=lost_reason)
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(admin_queries):
            many = call(admin)
        with django_assert_num_queries(manager_queries):
            call(manager)
    assert many.totals != few.totals or name in ("pipeline", "forecast")


@pytest.mark.parametrize("slug", [c[0] for c in CASES])
def test_it_serves_each_page_and_endpoint_in_a_fixed_number_of_queries(
    report_scenario, client, admin, team, pipeline, rep, lost_reason, slug
):
    client.force_login(admin)
    params = {"start": "2026-03-01", "end": "2026-03-31"}

    def count(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            assert client.get(url, params).status_code == 200
        return len(context.captured_queries)

    before = [count(f"/reports/{slug}/"), count(f"/api/reports/{slug}/"), count(f"/reports/{slug}/export.csv")]
    add_more_deals(admin=admin, reps=[rep], team=team, pipeline=pipeline, lost_reason=lost_reason)
    with time_machine.travel(NOW, tick=False):
        after = [count(f"/reports/{slug}/"), count(f"/api/reports/{slug}/"), count(f"/reports/{slug}/export.csv")]
    assert before == after
