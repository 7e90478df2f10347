"""Query counts of the pages and API endpoints that must stay fast at 1,000,000 deals: each is
measured with one row and with fifty, must issue the same number of queries both times, and no
more than 12 (docs/PERFORMANCE.md). Every request goes through the session, as a browser's does
(the user is loaded per request, with the teams that scope it)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.dates import company_today
from opportunities.models import Opportunity
from opportunities.services import opportunity_add_activity, opportunity_push_close_date
from tests.factories import ContactFactory, OpportunityFactory

MAX_QUERIES = 12
LIST = reverse("opportunities:list")
BOARD = reverse("opportunities:board")
API_LIST = "/api/opportunities/"

LIST_VARIANTS = {
    "default": {},
    "stage": {"stage": "New"},
    "customer search": {"q": "Müller"},
    "amount sort": {"sort": "-amount"},
    "later page": {"per_page": "25", "page": "2"},
}
API_VARIANTS = {
    "default": {},
    "stage": {"stage": "New"},
    "customer search": {"search": "Müller"},
    "amount sort": {"ordering": "-amount_base"},
    "later page": {"page_size": "1", "page": "2"},  # the rep's deal and the pool's: two pages at least
}


def queries(client, url, params=None) -> int:
    client.get(url, params or {})  # warm: content types, the session's first save
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return len(captured)


@pytest.fixture
def add_deals(team, pipeline, source, customer, rep, stages):
    """``add_deals(n)``: n more of the rep's deals (with a contact, in New, due soon), a stale
    idle limit in use, and one deal in the team's pool."""
    stages["New"].rotting_days = 3
    stages["New"].save()
    contact = ContactFactory(customer=customer)
    team.reps_see_pool = True
    team.save()
    OpportunityFactory(team=team, pipeline=pipeline, source=source, customer=customer, owner=None)

    def add(count: int):
        OpportunityFactory.create_batch(
            count,
            team=team,
            pipeline=pipeline,
            source=source,
            customer=customer,
            contact=contact,
            owner=rep,
            expected_close_date=company_today() + datetime.timedelta(days=3),
        )

    return add


def resolved(params: dict, stages) -> dict:
    return {key: (stages[value].pk if key == "stage" else value) for key, value in params.items()}


def assert_constant(one: int, fifty: int) -> None:
    assert one == fifty, f"{one} queries for one row, {fifty} for fifty"
    assert fifty <= MAX_QUERIES, f"{fifty} queries (at most {MAX_QUERIES})"


@pytest.mark.parametrize("viewer", ["rep", "manager"])
@pytest.mark.parametrize("variant", list(LIST_VARIANTS))
def test_the_list_keeps_its_number_of_queries(client_as, request, viewer, variant, add_deals, stages):
    client = client_as(request.getfixturevalue(viewer))
    params = resolved(LIST_VARIANTS[variant], stages)
    add_deals(1)
    one = queries(client, LIST, params)
    add_deals(49)
    assert_constant(one, queries(client, LIST, params))


@pytest.mark.parametrize("viewer", ["rep", "manager"])
@pytest.mark.parametrize("variant", list(API_VARIANTS))
def test_the_api_list_keeps_its_number_of_queries(client_as, request, viewer, variant, add_deals, stages):
    client = client_as(request.getfixturevalue(viewer))
    params = resolved(API_VARIANTS[variant], stages)
    add_deals(1)
    one = queries(client, API_LIST, params)
    add_deals(49)
    assert_constant(one, queries(client, API_LIST, params))


@pytest.mark.parametrize("viewer", ["rep", "manager"])
def test_the_board_keeps_its_number_of_queries(client_as, request, viewer, add_deals, pipeline):
    client = client_as(request.getfixturevalue(viewer))
    add_deals(1)
    one = queries(client, BOARD, {"pipeline": pipeline.pk})
    add_deals(49)
    assert_constant(one, queries(client, BOARD, {"pipeline": pipeline.pk}))


@pytest.mark.parametrize("viewer", ["rep", "manager"])
def test_a_board_column_keeps_its_number_of_queries(client_as, request, viewer, add_deals, stages):
    client = client_as(request.getfixturevalue(viewer))
    url = reverse("opportunities:board_column", args=[stages["New"].pk])
    add_deals(1)
    one = queries(client, url)
    add_deals(49)
    assert_constant(one, queries(client, url))


@pytest.mark.parametrize("viewer", ["rep", "manager"])
def test_the_dashboard_keeps_its_number_of_queries(client_as, request, viewer, add_deals):
    client = client_as(request.getfixturevalue(viewer))
    add_deals(1)
    one = queries(client, reverse("home"))
    add_deals(49)
    assert_constant(one, queries(client, reverse("home")))


def _add_history(deal, rep, count: int) -> Opportunity:
    for index in range(count):
        photo = SimpleUploadedFile(f"sample-{index}.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
        opportunity_add_activity(opportunity=deal, by=rep, kind="call", body=f"call {index}", files=[photo])
        deal = Opportunity.objects.get(pk=deal.pk)
        opportunity_push_close_date(
            opportunity=deal, by=rep, new_date=deal.expected_close_date + datetime.timedelta(days=1), reason="later"
        )
        deal = Opportunity.objects.get(pk=deal.pk)
    return deal


@pytest.mark.parametrize("viewer", ["rep", "manager"])
@pytest.mark.parametrize("page", ["opportunities:detail", "api-detail", "api-history"])
def test_an_opportunity_keeps_its_number_of_queries_whatever_its_history(
    client_as, request, viewer, page, deal, rep, stages
):
    client = client_as(request.getfixturevalue(viewer))
    url = {
        "opportunities:detail": reverse("opportunities:detail", args=[deal.pk]),
        "api-detail": f"/api/opportunities/{deal.pk}/",
        "api-history": f"/api/opportunities/{deal.pk}/history/",
    }[page]
    deal = _add_history(deal, rep, 1)
    one = queries(client, url)
    _add_history(deal, rep, 49)  # about 200 timeline events
    assert_constant(one, queries(client, url))


def test_the_list_says_more_than_the_bound_past_it(client_as, rep, add_deals, monkeypatch):
    monkeypatch.setattr("opportunities.pagination.LIST_COUNT_BOUND", 30)
    add_deals(40)
    client = client_as(rep)
    response = client.get(LIST, {"per_page": "25"})
    page = response.context["page"]
    assert page.paginator.is_bounded and page.paginator.count == 30
    assert "More than 30 opportunities" in response.content.decode()
    assert page.has_next()
    second = client.get(LIST, {"per_page": "25", "page": "2"}).context["page"]
    assert len(second.object_list) == 16 and not second.has_next()  # 40 of the rep's own, 1 in the pool
