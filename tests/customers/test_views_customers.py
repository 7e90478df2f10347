"""Customer pages: the list and a customer's page, scoped like every other read."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, CustomerFactory
from tests.query_counts import team_scope_queries

LIST = reverse("customers:list")


def names(response) -> list[str]:
    return [customer.name for customer in response.context["page"].object_list]


@pytest.fixture
def world(make_deal, rep, other_rep, customer):
    theirs = CustomerFactory(name="Lyon Pompes SA", country="France")
    make_deal(owner=other_rep, customer=theirs, title="Pumps for Lyon")
    make_deal(owner=rep, customer=customer, title="Panels for Müller")
    make_deal(owner=other_rep, customer=customer, title="Other rep's deal with Müller")
    ContactFactory(customer=customer, name="Jonas Weber", email="jonas@mueller.example")
    return {"theirs": theirs}


def test_it_lists_the_customers_a_rep_sees(client_as, rep, world):
    response = client_as(rep).get(LIST)
    assert response.status_code == 200 and names(response) == ["Müller Maschinenbau GmbH"]
    [row] = response.context["page"].object_list
    assert (row.deal_count, row.open_count, row.contact_count) == (1, 1, 1)  # only the deal the rep sees


def test_it_lists_the_team_customers_for_a_manager(client_as, manager, world):
    response = client_as(manager).get(LIST)
    assert names(response) == ["Lyon Pompes SA", "Müller Maschinenbau GmbH"]
    assert [row.deal_count for row in response.context["page"].object_list] == [1, 2]


def test_it_searches_names_countries_and_contacts(client_as, manager, world):
    client = client_as(manager)
    assert names(client.get(LIST, {"q": "france"})) == ["Lyon Pompes SA"]
    assert names(client.get(LIST, {"q": "jonas"})) == ["Müller Maschinenbau GmbH"]
    assert names(client.get(LIST, {"q": "nobody"})) == []


def test_it_answers_htmx_with_the_results_only(client_as, manager, world):
    body = client_as(manager).get(LIST, {"q": "lyon"}, headers={"HX-Request": "true"}).content.decode()
    assert body.startswith('<div id="customer-results"') and "Lyon Pompes SA" in body


def test_it_pages_the_list(client_as, rep):
    for number in range(55):
        CustomerFactory(name=f"Buyer {number:02}", created_by=rep)
    client = client_as(rep)
    assert len(names(client.get(LIST))) == 50
    assert names(client.get(LIST, {"page": 2})) == ["Buyer 50", "Buyer 51", "Buyer 52", "Buyer 53", "Buyer 54"]


@pytest.mark.parametrize("rows", [1, 50])
def test_it_keeps_a_constant_number_of_queries(client_as, rep, make_deal, rows, django_assert_num_queries):
    for number in range(rows):
        buyer = CustomerFactory(name=f"Buyer {number:02}")
        ContactFactory(customer=buyer)
        make_deal(owner=rep, customer=buyer)
    client = client_as(rep)
    # session, user (with the bell's count), [the user's teams], count, page (with its counts)
    with django_assert_num_queries(4 + team_scope_queries()):
        response = client.get(LIST)
    assert len(names(response)) == min(rows + 1, 50)  # + the rep's own ``customer`` of make_deal


def test_it_shows_a_customer_with_contacts_and_the_deals_the_user_sees(client_as, rep, customer, world):
    response = client_as(rep).get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Jonas Weber" in body and "jonas@mueller.example" in body
    assert "Panels for Müller" in body and "Other rep&#x27;s deal" not in body


def test_it_shows_a_manager_every_deal_of_the_customer_in_the_team(client_as, manager, customer, world):
    body = client_as(manager).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Panels for Müller" in body and "Other rep&#x27;s deal with Müller" in body


def test_it_hides_another_reps_customer(client_as, rep, world):
    assert client_as(rep).get(reverse("customers:detail", args=[world["theirs"].pk])).status_code == 404


def test_it_hides_a_customer_from_an_outsider_manager(client_as, outsider_manager, other_team, customer, world):
    assert client_as(outsider_manager).get(reverse("customers:detail", args=[customer.pk])).status_code == 404
    assert names(client_as(outsider_manager).get(LIST)) == []


def test_it_shows_an_admin_any_customer(client_as, admin, world):
    assert client_as(admin).get(reverse("customers:detail", args=[world["theirs"].pk])).status_code == 200


def test_it_shows_the_customer_page_in_a_constant_number_of_queries(
    client_as, manager, customer, make_deal, django_assert_num_queries
):
    for _ in range(10):
        ContactFactory(customer=customer)
        make_deal(customer=customer)
    client = client_as(manager)
    # session, user (with the bell's count), customer, contacts, [the user's teams], deals
    with django_assert_num_queries(5 + team_scope_queries()):
        response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.content.decode().count('class="badge status-open"') == 10


def test_it_needs_a_login(client, db):
    assert client.get(LIST).status_code == 302
