"""The quick "new opportunity" form: customer autocomplete, new customer and contact inline,
stages by pipeline, manager-only fields, errors next to the fields with the input kept."""

import datetime

import pytest
from django.urls import reverse

from crm.dates import company_today
from customers.models import Contact, Customer
from opportunities.models import Opportunity
from tests.factories import ContactFactory, CurrencyRateFactory, CustomerFactory, PipelineFactory

CREATE = reverse("opportunities:create")


def detail_or_list(opportunity) -> str:
    """Where the form sends the user: the deal's page once it exists (built on another branch)."""
    from django.urls import NoReverseMatch

    try:
        return reverse("opportunities:detail", args=[opportunity.pk])
    except NoReverseMatch:
        return reverse("opportunities:list")


@pytest.fixture
def form_data(customer, pipeline, source):
    return {
        "title": "500 LED panels",
        "customer": f"{customer.name} (#{customer.pk})",
        "source": source.pk,
        "pipeline": pipeline.pk,
        "amount": "12000",
        "currency": "CNY",
        "expected_close_date": (company_today() + datetime.timedelta(days=20)).isoformat(),
    }


def test_it_shows_a_rep_the_quick_form_without_manager_fields(client_as, rep, team, customer):
    response = client_as(rep).get(CREATE)
    assert response.status_code == 200
    body = response.content.decode()
    for name in (
        "title",
        "customer",
        "contact",
        "source",
        "pipeline",
        "stage",
        "amount",
        "currency",
        "expected_close_date",
    ):
        assert f'name="{name}"' in body, name
    for name in ("owner", "difficulty", "is_new_customer", "is_new_product", "team"):
        assert f'name="{name}"' not in body, name
    assert "data-manager-fields" not in body
    assert f"{customer.name} (#{customer.pk})" in body  # the first suggestions


def test_it_creates_a_reps_deal_through_the_service(client_as, rep, team, form_data, customer, stages):
    response = client_as(rep).post(CREATE, form_data)
    deal = Opportunity.objects.get()
    assert response.status_code == 302 and response.url == detail_or_list(deal)
    assert (deal.title, deal.owner, deal.team, deal.customer, deal.stage) == (
        "500 LED panels",
        rep,
        team,
        customer,
        stages["New"],
    )
    assert deal.assignments.count() == 1 and deal.stage_changes.count() == 1  # history from the service


def test_it_creates_a_new_customer_and_contact_inline(client_as, rep, team, form_data):
    data = form_data | {
        "customer": "Nairobi Truck Parts Ltd",
        "create_customer": "on",
        "new_contact_name": "Amina Otieno",
        "new_contact_email": "amina@ntp.example",
    }
    client_as(rep).post(CREATE, data)
    deal = Opportunity.objects.get()
    assert deal.customer.name == "Nairobi Truck Parts Ltd" and deal.customer.created_by == rep
    assert (deal.contact.name, deal.contact.email, deal.contact.customer) == (
        "Amina Otieno",
        "amina@ntp.example",
        deal.customer,
    )


def test_it_takes_an_exact_customer_name_without_javascript(client_as, rep, team, form_data, customer):
    client_as(rep).post(CREATE, form_data | {"customer": f"  {customer.name} "})
    assert Opportunity.objects.get().customer == customer


def test_it_keeps_the_input_and_shows_the_services_error_next_to_the_field(client_as, rep, team, form_data):
    data = form_data | {
        "expected_close_date": (company_today() - datetime.timedelta(days=1)).isoformat(),
        "customer": "Brand new buyer",
        "create_customer": "on",
        "new_contact_name": "Li Wei",
    }
    response = client_as(rep).post(CREATE, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["expected_close_date"] == ["The expected close date cannot be in the past."]
    body = response.content.decode()
    assert 'value="500 LED panels"' in body and 'value="Brand new buyer"' in body and 'value="Li Wei"' in body
    # the customer and contact made in the same transaction were rolled back with the refusal
    assert not Customer.objects.filter(name="Brand new buyer").exists() and not Contact.objects.exists()
    assert not Opportunity.objects.exists()


def test_it_shows_form_errors_in_chinese(client_as, rep, team, form_data):
    response = client_as(rep).post(CREATE, form_data | {"title": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "该字段是必填项。" in response.content.decode()


def test_it_does_not_know_another_reps_customer(client_as, rep, team, form_data, other_rep):
    theirs = CustomerFactory(name="Secret buyer", created_by=other_rep)
    response = client_as(rep).post(
        CREATE, form_data | {"customer": f"Secret buyer (#{theirs.pk})"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200 and not Opportunity.objects.exists()
    assert "No customer of yours is called that" in response.context["form"].errors["customer"][0]


def test_it_asks_which_of_two_customers_of_the_same_name(client_as, rep, team, form_data):
    CustomerFactory(name="Twin GmbH", created_by=rep)
    CustomerFactory(name="Twin GmbH", created_by=rep)
    response = client_as(rep).post(CREATE, form_data | {"customer": "Twin GmbH"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["form"].errors["customer"] == ["Several customers have this name: pick one from the list."]


def test_it_ignores_manager_fields_a_rep_posts(client_as, rep, other_rep, team, form_data):
    client_as(rep).post(CREATE, form_data | {"owner": other_rep.pk, "difficulty": "9", "is_new_customer": "on"})
    deal = Opportunity.objects.get()
    assert deal.owner == rep and str(deal.difficulty) == "1.00" and not deal.is_new_customer


def test_it_lets_a_rep_of_two_teams_choose_the_team(client_as, rep, team, other_team, form_data):
    other_team.members.add(rep)
    client = client_as(rep)
    assert 'name="team"' in client.get(CREATE).content.decode()
    client.post(CREATE, form_data | {"team": other_team.pk})
    assert Opportunity.objects.get().team == other_team


def test_it_lets_a_manager_set_the_owner_difficulty_and_flags(client_as, manager, rep, team, form_data):
    client = client_as(manager)
    body = client.get(CREATE).content.decode()
    assert "data-manager-fields" in body and 'name="difficulty"' in body and 'name="owner"' in body
    new_buyer = {
        "customer": "Saigon Auto Parts JSC",
        "create_customer": "on",
    }  # the rep's customer is not the manager's
    client.post(
        CREATE, form_data | new_buyer | {"team": team.pk, "owner": rep.pk, "difficulty": "2.5", "is_new_product": "on"}
    )
    deal = Opportunity.objects.get()
    assert (deal.owner, str(deal.difficulty), deal.is_new_product, deal.created_by) == (rep, "2.50", True, manager)


def test_it_lets_a_manager_create_into_the_pool(client_as, manager, team, form_data):
    client_as(manager).post(CREATE, form_data | {"customer": "Pool buyer", "create_customer": "on", "team": team.pk})
    assert Opportunity.objects.get().owner is None


def test_it_refuses_an_owner_outside_the_chosen_team(client_as, manager, team, other_team, outsider_rep, form_data):
    data = form_data | {"customer": "X", "create_customer": "on", "team": team.pk, "owner": outsider_rep.pk}
    response = client_as(manager).post(CREATE, data)
    assert response.status_code == 200 and "owner" in response.context["form"].errors


def test_it_refuses_a_currency_without_a_rate_next_to_the_field(client_as, rep, team, form_data):
    CurrencyRateFactory(currency="USD")
    response = client_as(rep).post(CREATE, form_data | {"currency": "EUR"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "currency" in response.context["form"].errors
    client_as(rep).post(CREATE, form_data | {"currency": "USD"})
    assert Opportunity.objects.get().amount_base == 12000 * CurrencyRateFactory._meta.model.objects.get().rate


def test_it_uses_the_chosen_stage_of_the_pipeline(client_as, rep, team, form_data, stages):
    client_as(rep).post(CREATE, form_data | {"stage": stages["Quote"].pk})
    assert Opportunity.objects.get().stage == stages["Quote"]


def test_it_refuses_a_stage_of_another_pipeline(client_as, rep, team, form_data):
    other = PipelineFactory(name="Other")
    response = client_as(rep).post(
        CREATE, form_data | {"stage": other.first_open_stage().pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200 and "stage" in response.context["form"].errors
    assert not Opportunity.objects.exists()


def test_it_lists_the_open_stages_of_a_pipeline(client_as, rep, pipeline, stages):
    body = client_as(rep).get(reverse("opportunities:stage_options"), {"pipeline": pipeline.pk}).content.decode()
    assert "New" in body and "Quote" in body and "Won" not in body and "Lost" not in body
    assert client_as(rep).get(reverse("opportunities:stage_options"), {"pipeline": "x"}).status_code == 200


def test_it_suggests_only_customers_the_user_sees(client_as, rep, other_rep, customer):
    CustomerFactory(name="Müller Hydraulik", created_by=other_rep)
    body = client_as(rep).get(reverse("customers:autocomplete"), {"customer": "müller"}).content.decode()
    assert f"(#{customer.pk})" in body and "Hydraulik" not in body


def test_it_lists_the_contacts_of_the_chosen_customer(client_as, rep, customer, other_rep):
    ContactFactory(customer=customer, name="Jonas Weber")
    theirs = CustomerFactory(name="Hidden", created_by=other_rep)
    ContactFactory(customer=theirs, name="Secret Person")
    client = client_as(rep)
    body = client.get(reverse("customers:contact_options"), {"customer": f"{customer.name} (#{customer.pk})"}).content
    assert "Jonas Weber" in body.decode()
    body = client.get(reverse("customers:contact_options"), {"customer": f"Hidden (#{theirs.pk})"}).content
    assert "Secret Person" not in body.decode()


def test_it_needs_a_login(client, db):
    assert client.get(CREATE).status_code == 302


def test_it_starts_with_the_customer_of_the_page_it_came_from(client_as, rep, team, customer):
    ContactFactory(customer=customer, name="Jonas Weber")
    detail = client_as(rep).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    link = f"{CREATE}?customer=M%C3%BCller%20Maschinenbau%20GmbH%20(%23{customer.pk})"
    assert link in detail
    body = client_as(rep).get(link).content.decode()
    assert f'value="{customer.name} (#{customer.pk})"' in body and "Jonas Weber" in body
