"""The opportunity list page: scoping per role, filters, search, sort, pages, htmx."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.dates import company_today
from opportunities.models import Opportunity
from tests.factories import ContactFactory, CustomerFactory, LeadSourceFactory, OpportunityFactory, PipelineFactory
from tests.query_counts import team_scope_queries

LIST = reverse("opportunities:list")


def titles(response) -> list[str]:
    return [deal["title"] for deal in response.context["page"].object_list]


@pytest.fixture
def deals(make_deal, rep, other_rep):
    return {
        "mine": make_deal(owner=rep, title="Pumps for Hamburg", amount_base=Decimal("300")),
        "theirs": make_deal(owner=other_rep, title="Valves for Lyon", amount_base=Decimal("100")),
        "pool": make_deal(owner=None, title="Fair lead", amount_base=Decimal("200")),
    }


def test_it_shows_a_rep_their_own_deals_only(client_as, rep, deals):
    response = client_as(rep).get(LIST)
    assert response.status_code == 200
    assert titles(response) == ["Pumps for Hamburg"]
    assert "Valves for Lyon" not in response.content.decode()


def test_it_shows_a_rep_the_pool_when_the_team_allows_it(client_as, rep, team, deals):
    team.reps_see_pool = True
    team.save()
    assert sorted(titles(client_as(rep).get(LIST))) == ["Fair lead", "Pumps for Hamburg"]


def test_it_shows_a_manager_the_whole_team(client_as, manager, deals):
    assert sorted(titles(client_as(manager).get(LIST))) == ["Fair lead", "Pumps for Hamburg", "Valves for Lyon"]


def test_it_shows_an_outsider_manager_nothing_of_the_team(
    client_as, outsider_manager, other_team, deals, outsider_deal
):
    assert titles(client_as(outsider_manager).get(LIST)) == ["Pumps for Lyon"]


def test_it_shows_an_admin_everything(client_as, admin, deals, outsider_deal):
    assert len(titles(client_as(admin).get(LIST))) == 4


def test_it_finds_nothing_of_another_rep_by_filter_or_search(client_as, rep, other_rep, deals):
    client = client_as(rep)
    assert titles(client.get(LIST, {"owner": other_rep.pk})) == []
    assert titles(client.get(LIST, {"q": "Lyon"})) == []
    assert titles(client.get(LIST, {"customer": deals["theirs"].customer_id, "q": "Valves"})) == []


def test_it_searches_the_title_the_customer_and_the_contact(client_as, manager, make_deal):
    buyer = CustomerFactory(name="Hanbit Auto Parts")
    make_deal(title="后视镜 5000 对", customer=buyer)
    make_deal(title="Bearings", contact=ContactFactory(name="Jonas Weber"))
    make_deal(title="Something else")
    client = client_as(manager)
    assert titles(client.get(LIST, {"q": "hanbit"})) == ["后视镜 5000 对"]
    assert titles(client.get(LIST, {"q": "后视镜"})) == ["后视镜 5000 对"]
    assert titles(client.get(LIST, {"q": "weber"})) == ["Bearings"]
    assert titles(client.get(LIST, {"q": "weber bearings"})) == ["Bearings"]
    assert titles(client.get(LIST, {"q": "weber hanbit"})) == []


def test_it_finds_a_deal_by_the_new_name_of_its_customer_or_contact_at_once(client_as, manager, make_deal):
    buyer = CustomerFactory(name="Hanbit Auto Parts")
    person = ContactFactory(customer=buyer, name="Jonas Weber")
    make_deal(title="Mirrors", customer=buyer, contact=person)
    buyer.name = "Seoul Mirror Co"
    buyer.save()
    person.name = "Mina Park"
    person.save()
    client = client_as(manager)
    # Nothing is committed yet (the test's transaction is open): the renames' own transaction.
    assert titles(client.get(LIST, {"q": "seoul park"})) == ["Mirrors"]
    assert titles(client.get(LIST, {"q": "hanbit"})) == []
    assert titles(client.get(LIST, {"q": "weber"})) == []


def test_it_finds_deals_loaded_and_renamed_where_ordinary_triggers_are_skipped(client_as, manager, make_deal):
    """The bench's bulk load (and a logical replica) writes with session_replication_role =
    replica, which skips ordinary triggers; search_text's fire always."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("session_replication_role is PostgreSQL's")
    buyer = CustomerFactory(name="Hanbit Auto Parts")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        make_deal(title="Mirrors", customer=buyer)
        buyer.name = "Seoul Mirror Co"
        buyer.save()
    assert titles(client_as(manager).get(LIST, {"q": "seoul mirrors"})) == ["Mirrors"]


def test_it_finds_a_deal_by_its_new_title_customer_or_contact(client_as, manager, make_deal):
    deal = make_deal(title="Mirrors", customer=CustomerFactory(name="Hanbit Auto Parts"))
    deal.title = "Side mirrors"
    deal.customer = CustomerFactory(name="Seoul Mirror Co")
    deal.save()
    client = client_as(manager)
    assert titles(client.get(LIST, {"q": "seoul side"})) == ["Side mirrors"]
    assert titles(client.get(LIST, {"q": "hanbit"})) == []
    Opportunity.objects.filter(pk=deal.pk).update(contact=ContactFactory(name="Mina Park"))
    assert titles(client.get(LIST, {"q": "mina"})) == ["Side mirrors"]
    Opportunity.objects.filter(pk=deal.pk).update(status=Opportunity.Status.LOST)
    assert titles(client.get(LIST, {"q": "mina seoul mirrors"})) == ["Side mirrors"]


def test_it_searches_percent_and_underscore_as_plain_characters(client_as, manager, make_deal):
    for title in ("100% deposit", "1000 deposit", "50% off", "500 off", "Model ABC_1", "Model ABCX1", "Q_1", "QX1"):
        make_deal(title=title)
    client = client_as(manager)
    assert titles(client.get(LIST, {"q": "100%"})) == ["100% deposit"]
    assert titles(client.get(LIST, {"q": "abc_1"})) == ["Model ABC_1"]
    # Words too short for a trigram are matched another way (STRPOS), the same rows.
    assert titles(client.get(LIST, {"q": "50%"})) == ["50% off"]
    assert titles(client.get(LIST, {"q": "q_1"})) == ["Q_1"]


def test_it_finds_words_of_one_or_two_characters(client_as, manager, make_deal):
    make_deal(title="Lamps", customer=CustomerFactory(name="深圳市华强电子有限公司"))
    make_deal(title="Valves", customer=CustomerFactory(name="宁波市恒通五金制品有限公司"))
    client = client_as(manager)
    assert titles(client.get(LIST, {"q": "华强"})) == ["Lamps"]
    assert titles(client.get(LIST, {"q": "强"})) == ["Lamps"]
    assert sorted(titles(client.get(LIST, {"q": "有限 市"}))) == ["Lamps", "Valves"]
    assert titles(client.get(LIST, {"q": "va 宁波"})) == ["Valves"]


def test_it_filters_with_the_apis_filterset(client_as, manager, rep, other_rep, team, make_deal, stages):
    today = company_today()
    other_pipeline = PipelineFactory(name="Spare parts")
    fair = LeadSourceFactory(name="Canton Fair")
    make_deal(title="A", owner=rep, expected_close_date=today + datetime.timedelta(days=5), amount_base=Decimal("50"))
    make_deal(title="B", owner=other_rep, source=fair, amount_base=Decimal("5000"))
    make_deal(title="C", owner=rep, pipeline=other_pipeline, stage=other_pipeline.first_open_stage())
    make_deal(title="D", owner=rep, stage=stages["Quote"], expected_close_date=today + datetime.timedelta(days=60))
    make_deal(title="E", owner=None)
    make_deal(title="F", owner=rep, status=Opportunity.Status.WON, stage=stages["Won"])
    client = client_as(manager)

    def only(**params):
        return sorted(titles(client.get(LIST, params)))

    assert only(owner=other_rep.pk) == ["B"]
    assert only(unassigned="true") == ["E"]
    assert only(pipeline=other_pipeline.pk) == ["C"]
    assert only(stage=stages["Quote"].pk) == ["D"]
    assert only(status="won") == ["F"]
    assert only(source=fair.pk) == ["B"]
    assert only(team=team.pk) == ["A", "B", "C", "D", "E", "F"]
    assert only(expected_close_date_before=(today + datetime.timedelta(days=10)).isoformat()) == ["A"]
    assert only(expected_close_date_after=(today + datetime.timedelta(days=40)).isoformat()) == ["D"]
    assert only(amount_min="2000") == ["B"]
    assert only(amount_max="100") == ["A"]


def test_it_filters_stale_deals_and_marks_them(client_as, manager, make_deal, stages):
    stages["New"].rotting_days = 5
    stages["New"].save()
    make_deal(title="Idle", stage_entered_at=timezone.now() - datetime.timedelta(days=10))
    make_deal(title="Fresh")
    client = client_as(manager)
    response = client.get(LIST, {"stale": "true"})
    assert titles(response) == ["Idle"]
    assert 'class="badge stale"' in response.content.decode()
    assert titles(client.get(LIST, {"stale": "false"})) == ["Fresh"]


def test_it_marks_overdue_deals(client_as, rep, make_deal):
    make_deal(owner=rep, title="Late", expected_close_date=company_today() - datetime.timedelta(days=1))
    body = client_as(rep).get(LIST).content.decode()
    assert 'class="badge overdue"' in body


def test_it_shows_a_refused_filter_next_to_its_field_and_ignores_it(client_as, manager, deals):
    response = client_as(manager).get(LIST, {"amount_min": "lots", "status": "open"}, HTTP_ACCEPT_LANGUAGE="en")
    assert len(titles(response)) == 3
    body = response.content.decode()
    assert 'class="field has-error"' in body and "Enter a number." in body


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", ["Valves for Lyon", "Fair lead", "Pumps for Hamburg"]),
        ("-amount", ["Pumps for Hamburg", "Fair lead", "Valves for Lyon"]),
        ("title", ["Fair lead", "Pumps for Hamburg", "Valves for Lyon"]),
        ("nonsense", ["Fair lead", "Valves for Lyon", "Pumps for Hamburg"]),  # the default: newest first
    ],
)
def test_it_sorts_by_the_columns(client_as, manager, deals, sort, expected):
    assert titles(client_as(manager).get(LIST, {"sort": sort})) == expected


def test_it_sorts_empty_values_last_both_ways(client_as, manager, make_deal):
    make_deal(title="No amount", amount=None, amount_base=None)
    make_deal(title="Some amount", amount_base=Decimal("10"))
    client = client_as(manager)
    assert titles(client.get(LIST, {"sort": "amount"}))[-1] == "No amount"
    assert titles(client.get(LIST, {"sort": "-amount"}))[-1] == "No amount"


def test_its_column_heads_sort_both_ways_and_keep_the_filters(client_as, manager, deals):
    body = client_as(manager).get(LIST, {"q": "a", "sort": "amount", "page": "1"}).content.decode()
    # Sorted ascending on the amount: its head is marked so and links to the descending sort;
    # another sortable head links to its ascending sort; both keep the search, leave the page.
    assert (
        '<th class="num" scope="col">\n        <a href="?q=a&amp;sort=-amount" '
        f'hx-get="{LIST}?q=a&amp;sort=-amount" class="sorted" aria-sort="ascending">Amount (CNY) ↑</a>\n      </th>'
    ) in body
    assert f'<a href="?q=a&amp;sort=title" hx-get="{LIST}?q=a&amp;sort=title">Title</a>' in body
    descending = client_as(manager).get(LIST, {"sort": "-amount"}).content.decode()
    assert 'href="?sort=amount"' in descending and 'aria-sort="descending">Amount (CNY) ↓</a>' in descending
    # A column that does not sort is a plain head.
    assert '<th scope="col">Flags</th>' in body


def test_it_keeps_filters_search_and_sort_in_the_page_links(client_as, manager, make_deal):
    for number in range(30):
        make_deal(title=f"Deal {number:02}")
    response = client_as(manager).get(LIST, {"q": "deal", "sort": "title", "per_page": 25})
    assert titles(response)[0] == "Deal 00" and len(titles(response)) == 25
    body = response.content.decode()
    assert 'href="?q=deal&amp;sort=title&amp;per_page=25&amp;page=2"' in body
    second = client_as(manager).get(LIST, {"q": "deal", "sort": "title", "per_page": 25, "page": 2})
    assert titles(second) == ["Deal 25", "Deal 26", "Deal 27", "Deal 28", "Deal 29"]


def test_it_answers_htmx_with_the_results_only(client_as, manager, deals):
    response = client_as(manager).get(LIST, {"q": "pumps", "sort": "-amount"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="opportunity-results"')
    assert 'hx-swap-oob="true"' in body and 'name="sort" value="-amount"' in body
    assert "Pumps for Hamburg" in body


def test_it_works_without_javascript(client_as, manager, deals):
    body = client_as(manager).get(LIST, {"q": "pumps"}).content.decode()
    assert '<form method="get" action="/opportunities/"' in body and 'name="q"' in body
    assert "hx-swap-oob" not in body


def test_it_shows_bulk_controls_to_managers_only(client_as, manager, rep, deals):
    assert "data-bulk" in client_as(manager).get(LIST).content.decode()
    body = client_as(rep).get(LIST).content.decode()
    assert "data-bulk" not in body and 'name="ids"' not in body and reverse("opportunities:bulk") not in body


def test_it_hides_the_owner_filter_from_reps(client_as, rep, manager, deals):
    assert 'name="owner"' not in client_as(rep).get(LIST).content.decode()
    assert 'name="owner"' in client_as(manager).get(LIST).content.decode()


def test_it_needs_a_login(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("rows", [1, 50])
def test_it_keeps_a_constant_number_of_queries(
    client_as, manager, team, pipeline, source, rep, rows, stages, django_assert_num_queries
):
    stages["New"].rotting_days = 3
    contact = ContactFactory()
    OpportunityFactory.create_batch(
        rows, team=team, pipeline=pipeline, source=source, customer=contact.customer, contact=contact, owner=rep
    )
    client = client_as(manager)
    client.get(LIST)
    # session, user (with the bell's count), [the manager's teams (scoping)]; count, the page's
    # ids, its rows (stale and overdue worked out on them: no idle limits read first); people
    # (the owner filter's and the bulk form's); teams (the filter's and the bulk form's); the
    # filter's stages and sources (one statement)
    with django_assert_num_queries(8 + team_scope_queries()):
        response = client.get(LIST, {"status": "open", "sort": "-amount"})
    assert len(titles(response)) == rows
    # htmx asks for the results only: no stages or sources for the filters
    with django_assert_num_queries(7 + team_scope_queries()):  # nor the bell: it is in the page around the results
        client.get(LIST, {"status": "open"}, headers={"HX-Request": "true"})
