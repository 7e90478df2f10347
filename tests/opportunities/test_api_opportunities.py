"""/api/opportunities/: list, filters, search, ordering, retrieve, create and PATCH."""

import datetime

import pytest
from django.utils import timezone

from crm.dates import company_today
from opportunities.models import Assignment, CloseDateChange, Opportunity
from opportunities.services import opportunity_add_activity
from tests.api_fixtures import customer, deal  # noqa: F401  (service-made deal, see the module)
from tests.factories import (
    ContactFactory,
    CurrencyRateFactory,
    CustomerFactory,
    LeadSourceFactory,
    LostReasonFactory,
    OpportunityFactory,
)

LIST = "/api/opportunities/"


def detail(pk):
    return f"/api/opportunities/{pk}/"


def ids(response):
    return {row["id"] for row in response.json()["results"]}


# --- list and visibility -----------------------------------------------------------------


def test_it_lists_a_reps_own_deals_only(api_as, rep, deal, outsider_deal, team, pipeline, source):
    others = OpportunityFactory(team=team, pipeline=pipeline, source=source, owner=None)
    response = api_as(rep).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert ids(response) == {deal.pk}
    assert others.pk not in ids(response)
    row = body["results"][0]
    for field in (
        "id",
        "title",
        "customer",
        "contact",
        "pipeline",
        "stage",
        "status",
        "owner",
        "team",
        "source",
        "amount",
        "currency",
        "amount_base",
        "probability",
        "difficulty",
        "is_new_customer",
        "is_new_product",
        "expected_close_date",
        "close_date_pushes",
        "closed_at",
        "close_reason",
        "lost_reason",
        "last_activity_at",
        "version",
        "created_at",
    ):
        assert field in row
    assert row["status"] == "open"
    assert row["owner"] == rep.pk
    assert row["stage_name"] == "New"
    assert row["customer_name"] == "Hamburg Valves GmbH"


def test_a_list_row_is_the_deal_as_its_own_page_answers_it(api_as, manager, team, pipeline, source, stages):
    # The list reads the names of the pipeline, team, source and lost reason as subqueries; the
    # detail through the relations: the same JSON, names and empty relations alike.
    contact = ContactFactory(name="Lena Vogt")
    lost = OpportunityFactory(
        team=team,
        pipeline=pipeline,
        source=source,
        stage=stages["Lost"],
        status=Opportunity.Status.LOST,
        lost_reason=LostReasonFactory(name="Price too high"),
        customer=contact.customer,
        contact=contact,
        owner=None,
    )
    plain = OpportunityFactory(team=team, pipeline=pipeline, source=source, contact=None)
    client = api_as(manager)
    rows = {row["id"]: row for row in client.get(LIST).json()["results"]}
    for opportunity in (lost, plain):
        assert rows[opportunity.pk] == client.get(detail(opportunity.pk)).json()
    assert rows[lost.pk]["lost_reason_name"] == "Price too high"
    assert rows[lost.pk]["contact_name"] == "Lena Vogt"
    assert rows[lost.pk]["team_name"] == team.name
    assert rows[lost.pk]["source_name"] == source.name
    assert rows[lost.pk]["pipeline_name"] == pipeline.name
    assert rows[plain.pk]["lost_reason_name"] is None and rows[plain.pk]["contact_name"] is None


def test_it_shows_the_pool_to_reps_only_when_the_team_allows(api_as, rep, team, pipeline, source):
    pooled = OpportunityFactory(team=team, pipeline=pipeline, source=source, owner=None)
    assert pooled.pk not in ids(api_as(rep).get(LIST))
    team.reps_see_pool = True
    team.save()
    assert pooled.pk in ids(api_as(rep).get(LIST))


def test_it_lists_the_teams_deals_for_a_manager(api_as, manager, deal, outsider_deal):
    assert ids(api_as(manager).get(LIST)) == {deal.pk}


def test_it_lists_everything_for_an_admin(api_as, admin, deal, outsider_deal):
    assert ids(api_as(admin).get(LIST)) == {deal.pk, outsider_deal.pk}


def test_it_lists_nothing_for_an_outsider_manager(api_as, outsider_manager, deal):
    assert deal.pk not in ids(api_as(outsider_manager).get(LIST))


def test_it_requires_authentication(api_client, deal):
    response = api_client.get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_it_paginates_with_a_page_size_up_to_200(api_as, admin, team, pipeline, source, customer):
    OpportunityFactory.create_batch(3, team=team, pipeline=pipeline, source=source, customer=customer)
    body = api_as(admin).get(LIST, {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
    second = api_as(admin).get(LIST, {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1
    assert api_as(admin).get(LIST, {"page": 9}).status_code == 404
    assert "page_size=" in body["next"]


def test_it_caps_the_page_size_at_200(api_as, admin, team, pipeline, source, customer):
    OpportunityFactory.create_batch(201, team=team, pipeline=pipeline, source=source, customer=customer)
    body = api_as(admin).get(LIST, {"page_size": 500}).json()
    assert len(body["results"]) == 200


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_in_a_constant_number_of_queries(
    api_as, manager, team, pipeline, source, customer, rep, rows, django_assert_num_queries
):
    contact = ContactFactory(customer=customer)
    OpportunityFactory.create_batch(
        rows, team=team, pipeline=pipeline, source=source, customer=customer, contact=contact, owner=rep
    )
    client = api_as(manager)
    # the caller's teams (this client's user is not loaded by the authentication backend, which
    # would bring them), count, the page's ids (branch by branch), its rows (relations joined)
    with django_assert_num_queries(4):
        response = client.get(LIST, {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_it_filters_with_a_constant_number_of_queries(
    api_as, manager, team, pipeline, source, customer, django_assert_num_queries
):
    pipeline.stages.filter(name="New").update(rotting_days=7)
    long_ago = timezone.now() - datetime.timedelta(days=30)
    OpportunityFactory.create_batch(
        5, team=team, pipeline=pipeline, source=source, customer=customer, stage_entered_at=long_ago
    )
    client = api_as(manager)
    with django_assert_num_queries(5):  # + the distinct idle limits in use, for ``stale``
        client.get(LIST, {"stale": "true", "status": "open", "search": "Deal", "ordering": "-amount_base"})


# --- filters, search, ordering ------------------------------------------------------------


@pytest.fixture
def spread(team, other_team, pipeline, source, rep, other_rep, customer):
    """A handful of deals of ``team`` that differ in one attribute each."""
    today = company_today()
    second_source = LeadSourceFactory(name="阿里巴巴国际站")
    quote = pipeline.stages.get(name="Quote")
    return {
        "rep_cheap": OpportunityFactory(
            team=team,
            pipeline=pipeline,
            source=source,
            owner=rep,
            customer=customer,
            amount_base="500.00",
            expected_close_date=today + datetime.timedelta(days=5),
        ),
        "rep_dear": OpportunityFactory(
            team=team,
            pipeline=pipeline,
            source=second_source,
            owner=rep,
            customer=customer,
            amount_base="90000.00",
            stage=quote,
            probability=70,
            expected_close_date=today + datetime.timedelta(days=60),
        ),
        "other_won": OpportunityFactory(
            team=team,
            pipeline=pipeline,
            source=source,
            owner=other_rep,
            customer=customer,
            status=Opportunity.Status.WON,
            amount_base="7000.00",
            title="Gate valves",
        ),
        "pool": OpportunityFactory(
            team=team, pipeline=pipeline, source=source, owner=None, customer=customer, amount_base=None
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"owner": "REP"}, {"rep_cheap", "rep_dear"}),
        ({"unassigned": "true"}, {"pool"}),
        ({"status": "won"}, {"other_won"}),
        ({"stage": "QUOTE"}, {"rep_dear"}),
        ({"source": "ALIBABA"}, {"rep_dear"}),
        ({"amount_min": "1000"}, {"rep_dear", "other_won"}),
        ({"amount_max": "7000"}, {"rep_cheap", "other_won"}),
        ({"expected_close_date_after": "+10"}, {"rep_dear", "other_won", "pool"}),
        ({"expected_close_date_before": "+10"}, {"rep_cheap"}),
        ({"search": "gate"}, {"other_won"}),
        ({"search": "hamburg"}, {"rep_cheap", "rep_dear", "other_won", "pool"}),
    ],
)
def test_it_filters(api_as, manager, spread, rep, pipeline, params, expected):
    resolved = {}
    for key, value in params.items():
        if value == "REP":
            value = rep.pk
        elif value == "QUOTE":
            value = pipeline.stages.get(name="Quote").pk
        elif value == "ALIBABA":
            value = spread["rep_dear"].source_id
        elif value.startswith("+"):
            value = (company_today() + datetime.timedelta(days=int(value[1:]))).isoformat()
        resolved[key] = value
    response = api_as(manager).get(LIST, resolved)
    assert response.status_code == 200
    assert ids(response) == {spread[name].pk for name in expected}


def test_it_filters_by_team_and_pipeline(api_as, admin, spread, outsider_deal, team, other_team, pipeline):
    assert ids(api_as(admin).get(LIST, {"team": other_team.pk})) == {outsider_deal.pk}
    assert len(ids(api_as(admin).get(LIST, {"team": team.pk, "pipeline": pipeline.pk}))) == 4


def test_it_searches_words_and_quoted_phrases_in_the_title_customer_and_contact(api_as, manager, make_deal):
    buyer = CustomerFactory(name="Hanbit Auto Parts")
    mirrors = make_deal(title="Mirrors", customer=buyer, contact=ContactFactory(customer=buyer, name="Jonas Weber"))
    make_deal(title="Auto parts catalogue")
    client = api_as(manager)

    def found(search):
        return ids(client.get(LIST, {"search": search}))

    assert found("hanbit weber") == {mirrors.pk}
    assert found('"Hanbit Auto"') == {mirrors.pk}
    assert found("hanbit,mirrors") == {mirrors.pk}
    assert len(found("auto parts")) == 2
    # A phrase never matches across two of the names (title, then customer).
    assert found('"Mirrors\nHanbit"') == set()
    assert found('"Mirrors Hanbit"') == set()
    buyer.name = "Seoul Mirror Co"
    buyer.save()
    assert found("seoul") == {mirrors.pk}
    assert found("hanbit") == set()


def test_it_never_leaks_through_a_filter_or_a_search(api_as, rep, outsider_deal, outsider_rep, other_team):
    client = api_as(rep)
    for params in ({"owner": outsider_rep.pk}, {"team": other_team.pk}, {"search": "Lyon"}, {"search": "Pumps"}):
        body = client.get(LIST, params).json()
        assert body["count"] == 0, params


def test_it_answers_400_for_a_bad_filter_value(api_as, manager):
    response = api_as(manager).get(LIST, {"owner": "1.5", "status": "maybe", "expected_close_date_after": "soon"})
    assert response.status_code == 400
    assert set(response.json()) == {"owner", "status", "expected_close_date_after"}


def test_it_orders_by_an_allowed_field_and_ignores_others(api_as, manager, spread):
    rows = api_as(manager).get(LIST, {"ordering": "-amount_base"}).json()["results"]
    amounts = [row["amount_base"] for row in rows if row["amount_base"] is not None]
    assert amounts == sorted(amounts, key=float, reverse=True)
    assert api_as(manager).get(LIST, {"ordering": "owner__password"}).status_code == 200


def test_it_filters_stale_deals_in_company_time(api_as, manager, team, pipeline, source, customer, rep):
    new = pipeline.stages.get(name="New")
    new.rotting_days = 7
    new.save()
    now = timezone.now()
    idle = OpportunityFactory(
        team=team,
        pipeline=pipeline,
        source=source,
        customer=customer,
        owner=rep,
        stage_entered_at=now - datetime.timedelta(days=9),
    )
    touched = OpportunityFactory(
        team=team,
        pipeline=pipeline,
        source=source,
        customer=customer,
        owner=rep,
        stage_entered_at=now - datetime.timedelta(days=9),
    )
    opportunity_add_activity(opportunity=touched, by=rep, kind="call", body="Called the buyer")
    fresh = OpportunityFactory(team=team, pipeline=pipeline, source=source, customer=customer, owner=rep)
    quote = OpportunityFactory(
        team=team,
        pipeline=pipeline,
        source=source,
        customer=customer,
        owner=rep,
        stage=pipeline.stages.get(name="Quote"),
        stage_entered_at=now - datetime.timedelta(days=90),
    )  # no idle limit
    client = api_as(manager)
    assert ids(client.get(LIST, {"stale": "true"})) == {idle.pk}
    assert ids(client.get(LIST, {"stale": "false"})) == {touched.pk, fresh.pk, quote.pk}
    assert client.get(detail(idle.pk)).json()["is_stale"] is True
    assert client.get(detail(fresh.pk)).json()["is_stale"] is False


# --- retrieve --------------------------------------------------------------------------------


def test_it_retrieves_a_visible_deal(api_as, rep, manager, admin, deal):
    for user in (rep, manager, admin):
        response = api_as(user).get(detail(deal.pk))
        assert response.status_code == 200
        assert response.json()["version"] == deal.version


@pytest.fixture
def lost_pool_deal(make_deal, customer, lost_reason):
    """A lost deal in the unassigned pool, with a contact and a lost reason, in USD."""
    return make_deal(
        owner=None,
        contact=ContactFactory(customer=customer),
        status=Opportunity.Status.LOST,
        lost_reason=lost_reason,
        closed_at=timezone.now(),
        amount="1234.50",
        currency="USD",
        last_activity_at=timezone.now() - datetime.timedelta(days=400),
    )


def test_it_retrieves_what_the_serializer_answers(api_as, manager, make_deal, lost_pool_deal):
    """The detail walks OpportunitySerializer's fields itself (opportunity_representation): the
    same JSON, for an open deal and for a lost pool deal with a contact, in USD."""
    from opportunities.api.serializers import OpportunitySerializer
    from opportunities.selectors import opportunities_visible_to

    for row in (make_deal(), lost_pool_deal):
        response = api_as(manager).get(detail(row.pk))
        expected = OpportunitySerializer(opportunities_visible_to(user=manager).get(pk=row.pk)).data
        assert response.json() == dict(expected)
        # With a query parameter the filter backends run, and answer the same.
        assert response.content == api_as(manager).get(detail(row.pk), {"ordering": "id"}).content


def test_it_lists_what_the_serializer_answers(api_as, manager, make_deal, rep, stages, request):
    """The list writes its rows from ``values()`` (opportunity_representation), not through
    OpportunitySerializer: the same JSON for every kind of row — open, owned, stale, lost in the
    pool with a contact and a lost reason, won in USD."""
    from opportunities.api.serializers import OpportunitySerializer
    from opportunities.selectors import opportunities_visible_to

    stages["New"].rotting_days = 3
    stages["New"].save()
    month_ago = timezone.now() - datetime.timedelta(days=30)
    make_deal(owner=rep, stage=stages["New"], last_activity_at=month_ago, stage_entered_at=month_ago)
    request.getfixturevalue("lost_pool_deal")  # made second: the rows are in id order
    make_deal(owner=rep, status=Opportunity.Status.WON, closed_at=timezone.now(), amount="99.99", currency="USD")
    results = api_as(manager).get(LIST, {"ordering": "id"}).json()["results"]
    expected = OpportunitySerializer(opportunities_visible_to(user=manager).order_by("id"), many=True).data
    assert results == [dict(row) for row in expected]
    assert [row["is_stale"] for row in results] == [True, False, False]


@pytest.mark.parametrize("who", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_for_someone_elses_deal(api_as, deal, who, request):
    response = api_as(request.getfixturevalue(who)).get(detail(deal.pk))
    assert response.status_code == 404
    assert api_as(request.getfixturevalue(who)).get(detail(999999)).status_code == 404


# --- create -----------------------------------------------------------------------------------


@pytest.fixture
def new_deal(team, customer, pipeline, source):
    return {
        "title": "Butterfly valves",
        "customer": customer.pk,
        "pipeline": pipeline.pk,
        "source": source.pk,
        "expected_close_date": (company_today() + datetime.timedelta(days=20)).isoformat(),
        "amount": "2500.00",
    }


def test_it_creates_a_deal_for_the_rep(api_as, rep, team, new_deal):
    response = api_as(rep).post(LIST, new_deal, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == rep.pk and body["team"] == team.pk and body["stage_name"] == "New"
    assert body["probability"] == 10 and body["version"] == 1 and body["amount_base"] == "2500.00"
    assert Assignment.objects.filter(opportunity_id=body["id"], to_owner=rep).exists()


def test_it_creates_a_pool_deal_or_one_for_a_rep_as_manager(api_as, manager, rep, team, new_deal):
    new_deal["customer"] = CustomerFactory(created_by=manager).pk
    pooled = api_as(manager).post(LIST, {**new_deal, "team": team.pk}, format="json")
    assert pooled.status_code == 201, pooled.json()
    assert pooled.json()["owner"] is None
    owned = api_as(manager).post(
        LIST,
        {**new_deal, "team": team.pk, "owner": rep.pk, "difficulty": "2.50", "is_new_customer": True},
        format="json",
    )
    assert owned.status_code == 201, owned.json()
    assert owned.json()["difficulty"] == "2.50" and owned.json()["is_new_customer"] is True


@pytest.mark.parametrize(
    "extra",
    [
        {"owner": "OTHER_REP"},
        {"difficulty": "2.00"},
        {"is_new_customer": True},
        {"is_new_product": True},
        {"probability": 80},
    ],
)
def test_it_refuses_pay_fields_from_a_rep_with_403_and_creates_nothing(api_as, rep, other_rep, new_deal, extra):
    extra = {key: other_rep.pk if value == "OTHER_REP" else value for key, value in extra.items()}
    response = api_as(rep).post(LIST, {**new_deal, **extra}, format="json")
    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Opportunity.objects.exists()


def test_it_answers_400_field_by_field_and_creates_nothing(api_as, rep, new_deal):
    response = api_as(rep).post(LIST, {**new_deal, "title": "", "expected_close_date": "2001-01-01"}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()
    response = api_as(rep).post(LIST, {**new_deal, "expected_close_date": "2001-01-01"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["expected_close_date"]
    response = api_as(rep).post(LIST, {"title": "x"}, format="json")
    assert set(response.json()) >= {"customer", "pipeline", "source", "expected_close_date"}
    assert not Opportunity.objects.exists()


def test_it_treats_a_customer_the_rep_cannot_see_as_unknown(api_as, rep, new_deal, outsider_deal):
    response = api_as(rep).post(LIST, {**new_deal, "customer": outsider_deal.customer_id}, format="json")
    assert response.status_code == 400
    assert "customer" in response.json()


def test_it_refuses_an_outsider_manager_creating_in_another_team(api_as, outsider_manager, team, new_deal):
    new_deal["customer"] = CustomerFactory(created_by=outsider_manager).pk
    response = api_as(outsider_manager).post(LIST, {**new_deal, "team": team.pk}, format="json")
    assert response.status_code == 403
    assert not Opportunity.objects.exists()


def test_it_converts_a_foreign_amount_with_the_admin_rate(api_as, rep, new_deal):
    CurrencyRateFactory(currency="USD", rate="7.100000")
    response = api_as(rep).post(LIST, {**new_deal, "currency": "usd", "amount": "100"}, format="json")
    assert response.status_code == 201
    assert response.json()["currency"] == "USD" and response.json()["amount_base"] == "710.00"


# --- PATCH ------------------------------------------------------------------------------------


def test_it_patches_fields_with_the_current_version(api_as, rep, deal, customer):
    contact = ContactFactory(customer=customer)
    response = api_as(rep).patch(
        detail(deal.pk), {"version": deal.version, "title": "Ball valves, DN50", "contact": contact.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Ball valves, DN50"
    assert response.json()["contact"] == contact.pk
    assert response.json()["version"] == deal.version + 1


def test_it_answers_409_for_a_stale_version_and_changes_nothing(api_as, rep, deal):
    response = api_as(rep).patch(detail(deal.pk), {"version": deal.version - 1 or 99, "title": "X"}, format="json")
    assert response.status_code == 409
    assert response.json()["current_version"] == deal.version
    assert "detail" in response.json()
    deal.refresh_from_db()
    assert deal.title == "Ball valves for Hamburg"


def test_it_requires_the_version(api_as, rep, deal):
    response = api_as(rep).patch(detail(deal.pk), {"title": "X"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()


def test_it_records_a_new_close_date_as_a_push(api_as, rep, deal):
    later = deal.expected_close_date + datetime.timedelta(days=14)
    response = api_as(rep).patch(
        detail(deal.pk),
        {"version": deal.version, "expected_close_date": later.isoformat(), "reason": "Buyer away"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["close_date_pushes"] == 1
    change = CloseDateChange.objects.get(opportunity=deal)
    assert change.new_date == later and change.reason == "Buyer away"


def test_it_refuses_a_past_close_date_field_by_field(api_as, rep, deal):
    response = api_as(rep).patch(
        detail(deal.pk), {"version": deal.version, "expected_close_date": "2001-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["expected_close_date"]


@pytest.mark.parametrize(
    "change",
    [
        {"owner": "OTHER_REP"},
        {"owner": None},
        {"difficulty": "3.00"},
        {"is_new_customer": True},
        {"is_new_product": True},
        {"probability": 90},
    ],
)
def test_it_refuses_pay_fields_from_a_rep_with_403_and_changes_nothing(api_as, rep, other_rep, deal, change):
    change = {key: other_rep.pk if value == "OTHER_REP" else value for key, value in change.items()}
    before = Opportunity.objects.values().get(pk=deal.pk)
    response = api_as(rep).patch(
        detail(deal.pk), {"version": deal.version, "title": "Changed", **change}, format="json"
    )
    assert response.status_code == 403
    assert Opportunity.objects.values().get(pk=deal.pk) == before


def test_it_lets_a_rep_send_the_current_value_of_a_managers_field(api_as, rep, deal):
    response = api_as(rep).patch(
        detail(deal.pk),
        {"version": deal.version, "owner": rep.pk, "difficulty": "1.00", "title": "Same pay"},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_it_lets_a_manager_set_pay_fields_and_reassign(api_as, manager, other_rep, deal):
    response = api_as(manager).patch(
        detail(deal.pk),
        {"version": deal.version, "difficulty": "2.50", "probability": 35, "owner": other_rep.pk, "reason": "Leave"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["difficulty"] == "2.50" and body["probability"] == 35 and body["probability_is_manual"] is True
    assert body["owner"] == other_rep.pk
    assert Assignment.objects.filter(opportunity=deal, to_owner=other_rep, reason="Leave").exists()


def test_it_rolls_back_the_edit_when_the_reassignment_fails(api_as, manager, outsider_rep, deal):
    response = api_as(manager).patch(
        detail(deal.pk), {"version": deal.version, "title": "Renamed", "owner": outsider_rep.pk}, format="json"
    )
    assert response.status_code == 400
    assert "owner" in response.json()
    deal.refresh_from_db()
    assert deal.title == "Ball valves for Hamburg" and deal.owner_id != outsider_rep.pk


@pytest.mark.parametrize("who", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_to_a_patch_of_someone_elses_deal(api_as, deal, who, request):
    response = api_as(request.getfixturevalue(who)).patch(detail(deal.pk), {"version": 1, "title": "X"}, format="json")
    assert response.status_code == 404


def test_it_does_not_allow_put(api_as, rep, deal):
    assert api_as(rep).put(detail(deal.pk), {"version": 1, "title": "X"}, format="json").status_code == 405


def test_it_keeps_a_customer_the_rep_cannot_see_out_of_a_patch(api_as, rep, deal):
    hidden = CustomerFactory(name="Somebody else's")
    response = api_as(rep).patch(detail(deal.pk), {"version": deal.version, "customer": hidden.pk}, format="json")
    assert response.status_code == 400 and "customer" in response.json()


def test_the_list_parses_its_filters_once_for_every_branch_of_the_visibility_rule(
    api_as, rep, team, deal, monkeypatch
):
    # The list reads each branch of the visibility rule (own deals, the team's pool) narrowed by
    # the same filters: one FilterSet, validated once (crm.api_filters.OnceFilterBackend).
    from opportunities.filtersets import OpportunityFilterSet

    team.reps_see_pool = True
    team.save()
    built = []
    original = OpportunityFilterSet.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(OpportunityFilterSet, "__init__", counting)
    response = api_as(rep).get(LIST, {"status": "open", "search": "a"})
    assert response.status_code == 200
    assert len(built) == 1
