"""/api/customers/ and /api/contacts/."""

import pytest

from customers.models import Contact, Customer
from tests.api_fixtures import customer, deal  # noqa: F401  (service-made deal, see the module)
from tests.factories import ContactFactory, CustomerFactory

CUSTOMERS = "/api/customers/"
CONTACTS = "/api/contacts/"


def names(response):
    return sorted(row["name"] for row in response.json()["results"])


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Klaus Weber", email="k.weber@hamburg-valves.de")


def test_it_lists_customers_through_visible_deals_and_own_records(
    api_as, rep, other_rep, manager, admin, deal, outsider_deal
):
    CustomerFactory(name="Recorded by other rep", created_by=other_rep)
    assert names(api_as(rep).get(CUSTOMERS)) == ["Hamburg Valves GmbH"]
    assert names(api_as(manager).get(CUSTOMERS)) == ["Hamburg Valves GmbH"]
    assert names(api_as(other_rep).get(CUSTOMERS)) == ["Recorded by other rep"]
    assert len(names(api_as(admin).get(CUSTOMERS))) == 3


@pytest.mark.parametrize("who", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_for_a_customer_one_cannot_see(api_as, deal, customer, contact, who, request):
    client = api_as(request.getfixturevalue(who))
    assert client.get(f"{CUSTOMERS}{customer.pk}/").status_code == 404
    assert client.get(f"{CONTACTS}{contact.pk}/").status_code == 404
    assert client.get(CUSTOMERS, {"search": "Hamburg"}).json()["count"] == 0
    assert client.get(CONTACTS, {"search": "Weber"}).json()["count"] == 0


def test_it_retrieves_filters_and_searches_customers(api_as, rep, customer):
    CustomerFactory(name="Osaka Pumps", country="Japan", industry="Pumps", created_by=rep)
    client = api_as(rep)
    assert client.get(f"{CUSTOMERS}{customer.pk}/").json()["name"] == "Hamburg Valves GmbH"
    assert names(client.get(CUSTOMERS, {"country": "japan"})) == ["Osaka Pumps"]
    assert names(client.get(CUSTOMERS, {"industry": "pump"})) == ["Osaka Pumps"]
    assert names(client.get(CUSTOMERS, {"search": "hamburg"})) == ["Hamburg Valves GmbH"]
    rows = client.get(CUSTOMERS, {"ordering": "-name"}).json()["results"]
    assert [row["name"] for row in rows] == ["Osaka Pumps", "Hamburg Valves GmbH"]


def test_it_records_a_customer_the_creator_then_sees(api_as, other_rep):
    response = api_as(other_rep).post(
        CUSTOMERS,
        {"name": "  Lagos Imports Ltd ", "country": "Nigeria", "website": "https://lagos.example"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "Lagos Imports Ltd"
    assert Customer.objects.get(pk=response.json()["id"]).created_by == other_rep
    assert names(api_as(other_rep).get(CUSTOMERS)) == ["Lagos Imports Ltd"]


def test_it_answers_400_to_a_bad_customer(api_as, rep):
    response = api_as(rep).post(CUSTOMERS, {"name": "", "website": "not a url"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "website"}
    response = api_as(rep).post(CUSTOMERS, {"name": "   "}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    assert not Customer.objects.exists()


def test_it_answers_401_to_anonymous(api_client, db):
    assert api_client.get(CUSTOMERS).status_code == 401
    assert api_client.post(CUSTOMERS, {"name": "x"}, format="json").status_code == 401
    assert api_client.get(CONTACTS).status_code == 401


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_customers_in_a_constant_number_of_queries(api_as, rep, rows, django_assert_num_queries):
    CustomerFactory.create_batch(rows, created_by=rep)
    client = api_as(rep)
    with django_assert_num_queries(2):
        response = client.get(CUSTOMERS, {"page_size": 100})
    assert response.json()["count"] == rows


# --- contacts ---------------------------------------------------------------------------


def test_it_lists_contacts_of_visible_customers(api_as, rep, manager, deal, contact, outsider_deal):
    ContactFactory(customer=outsider_deal.customer, name="Jean Dupont")
    assert names(api_as(rep).get(CONTACTS)) == ["Klaus Weber"]
    assert names(api_as(manager).get(CONTACTS)) == ["Klaus Weber"]
    body = api_as(rep).get(CONTACTS).json()["results"][0]
    assert body["customer"] == deal.customer_id and body["customer_name"] == "Hamburg Valves GmbH"


def test_it_filters_and_searches_contacts(api_as, rep, customer, contact):
    ContactFactory(customer=customer, name="Anna Schmidt", email="anna@hamburg-valves.de")
    client = api_as(rep)
    assert names(client.get(CONTACTS, {"customer": customer.pk})) == ["Anna Schmidt", "Klaus Weber"]
    assert names(client.get(CONTACTS, {"search": "k.weber"})) == ["Klaus Weber"]
    assert client.get(CONTACTS, {"customer": "abc"}).status_code == 400


def test_it_adds_a_contact_to_a_visible_customer(api_as, rep, customer):
    response = api_as(rep).post(
        CONTACTS,
        {"customer": customer.pk, "name": "Ms. Li", "phone": "+86 138 0000 0000", "wechat": "li_w"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Contact.objects.get(pk=response.json()["id"]).phone_normalized == "8613800000000"


def test_it_refuses_a_contact_for_a_customer_one_cannot_see(api_as, other_rep, customer):
    response = api_as(other_rep).post(CONTACTS, {"customer": customer.pk, "name": "Sneaky"}, format="json")
    assert response.status_code == 400 and "customer" in response.json()
    assert not Contact.objects.exists()


def test_it_answers_400_to_a_bad_contact(api_as, rep, customer):
    response = api_as(rep).post(CONTACTS, {"customer": customer.pk, "name": "", "email": "nope"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "email"}


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_contacts_in_a_constant_number_of_queries(api_as, rep, customer, rows, django_assert_num_queries):
    ContactFactory.create_batch(rows, customer=customer)
    client = api_as(rep)
    with django_assert_num_queries(2):
        response = client.get(CONTACTS, {"page_size": 100})
    assert response.json()["count"] == rows
