"""/api/sources/ and /api/lost-reasons/: company configuration, the same for everyone."""

import datetime
from decimal import Decimal

import pytest

from sources.models import LeadSource
from tests.factories import LeadSourceFactory, LostReasonFactory

SOURCES = "/api/sources/"
LOST_REASONS = "/api/lost-reasons/"


@pytest.mark.parametrize("who", ["rep", "manager", "outsider_rep", "admin"])
def test_it_lists_sources_with_their_cost(api_as, source, who, request):
    body = api_as(request.getfixturevalue(who)).get(SOURCES).json()
    row = body["results"][0]
    assert row["name"] == "2026春季广交会" and row["channel"] == "trade_show"
    assert Decimal(row["total_cost"]) == Decimal("12000.00")  # 10000 + 4 person-days × 500


def test_it_filters_searches_and_retrieves_sources(api_as, rep, source):
    LeadSourceFactory(
        name="阿里巴巴国际站", channel=LeadSource.Channel.ONLINE_PLATFORM, start_date=datetime.date(2026, 1, 1)
    )
    client = api_as(rep)
    assert [row["name"] for row in client.get(SOURCES, {"channel": "online_platform"}).json()["results"]] == [
        "阿里巴巴国际站"
    ]
    assert client.get(SOURCES, {"search": "广交"}).json()["count"] == 1
    assert client.get(f"{SOURCES}{source.pk}/").json()["id"] == source.pk
    assert client.get(SOURCES, {"channel": "carrier_pigeon"}).status_code == 400
    assert client.get(f"{SOURCES}999999/").status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_sources_in_a_constant_number_of_queries(api_as, rep, rows, django_assert_num_queries):
    LeadSourceFactory.create_batch(rows)
    client = api_as(rep)
    with django_assert_num_queries(2):
        client.get(SOURCES, {"page_size": 100})


def test_it_lists_lost_reasons(api_as, rep, lost_reason):
    LostReasonFactory(name="No budget", is_active=False)
    client = api_as(rep)
    assert client.get(LOST_REASONS).json()["count"] == 2
    active = client.get(LOST_REASONS, {"is_active": "true"}).json()["results"]
    assert [row["name"] for row in active] == ["Price too high"]
    assert client.get(f"{LOST_REASONS}{lost_reason.pk}/").json()["name"] == "Price too high"


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_lost_reasons_in_a_constant_number_of_queries(api_as, rep, rows, django_assert_num_queries):
    for number in range(rows):
        LostReasonFactory(name=f"Reason {number}")
    client = api_as(rep)
    with django_assert_num_queries(2):
        client.get(LOST_REASONS, {"page_size": 100})


def test_it_answers_401_to_anonymous(api_client, db):
    assert api_client.get(SOURCES).status_code == 401
    assert api_client.get(LOST_REASONS).status_code == 401
