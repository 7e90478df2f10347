"""Every admin page of Jihui's models answers a superuser, and the history stays read-only."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.dates import company_today
from crm.demo_data import tiny_png
from opportunities.models import Activity, Assignment, Attachment, Opportunity, StageChange
from opportunities.services import (
    opportunity_add_activity,
    opportunity_close,
    opportunity_create,
    opportunity_move_stage,
    opportunity_push_close_date,
    opportunity_update,
)
from tests.admin_support import change_form_data
from tests.factories import ContactFactory, CurrencyRateFactory, CustomerFactory, OpportunityFactory

OUR_APPS = {"teams", "customers", "stages", "sources", "opportunities"}
WORLD_MODELS = {
    "teams.user",
    "teams.team",
    "customers.customer",
    "customers.contact",
    "stages.pipeline",
    "sources.leadsource",
    "opportunities.opportunity",
    "opportunities.assignment",
    "opportunities.stagechange",
    "opportunities.closedatechange",
    "opportunities.statuschange",
    "opportunities.fieldchange",
    "opportunities.activity",
    "opportunities.attachment",
    "opportunities.lostreason",
    "opportunities.currencyrate",
}
HISTORY_MODELS = [
    "assignment",
    "stagechange",
    "closedatechange",
    "statuschange",
    "fieldchange",
    "activity",
    "attachment",
]


def our_models():
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in OUR_APPS),
        key=lambda model: model._meta.label,
    )


@pytest.fixture
def world(admin, team, rep, pipeline, stages, source, lost_reason):
    """One of everything, written through the services so every history table has rows."""
    CurrencyRateFactory(currency="USD")
    Group.objects.create(name="Sales")
    customer = CustomerFactory(name="Hamburg Pumpen GmbH")
    contact = ContactFactory(
        customer=customer, name="Jonas Weber", email="jonas@pumpen.example", phone="+49 40 1234567"
    )
    today = company_today()
    deal = opportunity_create(
        by=admin,
        title="Pumps for Hamburg",
        customer=customer,
        contact=contact,
        pipeline=pipeline,
        source=source,
        team=team,
        owner=rep,
        expected_close_date=today + datetime.timedelta(days=30),
        amount="12000",
        currency="USD",
    )
    deal = opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    opportunity_add_activity(
        opportunity=deal,
        by=rep,
        kind="sample",
        body="Sample sent",
        carrier="DHL",
        tracking_number="JD0001",
        files=[SimpleUploadedFile("sample.png", tiny_png((200, 30, 30)), content_type="image/png")],
    )
    deal = opportunity_push_close_date(
        opportunity=deal, by=rep, new_date=today + datetime.timedelta(days=45), reason="Customer on holiday"
    )
    deal = opportunity_update(opportunity=deal, by=admin, version=deal.version, difficulty="2.50")
    lost = opportunity_create(
        by=admin,
        title="Valves for Lyon",
        customer=customer,
        pipeline=pipeline,
        source=source,
        team=team,
        owner=rep,
        expected_close_date=today + datetime.timedelta(days=10),
    )
    opportunity_close(opportunity=lost, outcome="lost", by=rep, lost_reason=lost_reason)
    return {"deal": deal, "customer": customer, "contact": contact}


@pytest.fixture
def admin_client_(client, admin):
    client.force_login(admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # assertions read English messages
    return client


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label_lower)
def test_it_shows_the_changelist_and_change_page_of_every_model(admin_client_, world, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert admin_client_.get(changelist).status_code == 200
    if admin.site._registry[model].search_fields:
        assert admin_client_.get(changelist, {"q": "a"}).status_code == 200

    obj = model._default_manager.order_by("pk").first()
    if obj is None:
        # Only models added later by other features may lack a row; ours are all in the world.
        assert opts.label_lower not in WORLD_MODELS, f"the world fixture has no {opts.label}"
        return
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert admin_client_.get(change).status_code == 200

    model_admin = admin.site._registry[model]
    request = admin_client_.get(changelist).wsgi_request
    if model_admin.has_add_permission(request):
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        assert admin_client_.get(add).status_code == 200


@pytest.mark.parametrize("model_name", HISTORY_MODELS)
def test_it_keeps_history_read_only(admin_client_, world, model_name):
    model_admin = next(ma for model, ma in admin.site._registry.items() if model._meta.model_name == model_name)
    request = admin_client_.get(reverse("admin:index")).wsgi_request
    obj = model_admin.model.objects.first()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert admin_client_.get(reverse(f"admin:opportunities_{model_name}_add")).status_code == 403
    delete = reverse(f"admin:opportunities_{model_name}_delete", args=[obj.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    assert model_admin.model.objects.filter(pk=obj.pk).exists()


def test_it_shows_the_history_inlines_read_only_with_scoped_file_links(admin_client_, world):
    deal = world["deal"]
    response = admin_client_.get(reverse("admin:opportunities_opportunity_change", args=[deal.pk]))
    attachment = Attachment.objects.get(opportunity=deal)
    page = response.content.decode()
    assert reverse("opportunities:attachment_download", args=[attachment.pk]) in page
    assert "/media/" not in page
    for inline in response.context["inline_admin_formsets"]:
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission
    assert "JD0001" in page
    assert "Customer on holiday" in page


def test_it_finds_customers_by_contact_email_and_by_phone_in_any_format(admin_client_, world):
    url = reverse("admin:customers_customer_changelist")
    for term in ("jonas@pumpen.example", "0049-40-1234567", "Hamburg"):
        response = admin_client_.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == [world["customer"]], term
    response = admin_client_.get(url, {"q": "nobody@nowhere.example"})
    assert list(response.context["cl"].result_list) == []


def test_it_shows_the_total_cost_of_a_lead_source(admin_client_, source):
    response = admin_client_.get(reverse("admin:sources_leadsource_changelist"))
    # 10,000.00 money + 4.0 person-days × 500.00 a day
    assert '<td class="field-total_cost">12000.00</td>' in response.content.decode()
    response = admin_client_.get(reverse("admin:sources_leadsource_change", args=[source.pk]))
    assert "12000.00" in response.content.decode()


def test_it_refuses_to_delete_a_customer_with_opportunities_and_says_why(admin_client_, world):
    customer = world["customer"]
    url = reverse("admin:customers_customer_delete", args=[customer.pk])
    response = admin_client_.get(url)
    assert response.status_code == 200
    assert "Opportunities of this customer: 2" in response.content.decode()
    response = admin_client_.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert type(customer).objects.filter(pk=customer.pk).exists()


def test_it_refuses_to_delete_a_contact_in_use_from_the_customer_page(admin_client_, world):
    customer, contact = world["customer"], world["contact"]
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(admin_client_.get(url))
    data["contacts-0-DELETE"] = "on"
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors().as_data()
    assert [error.code for error in errors] == ["deleting_protected"]
    assert "Pumps for Hamburg" in response.content.decode()
    assert type(contact).objects.filter(pk=contact.pk).exists()


def test_it_lists_opportunities_with_a_constant_number_of_queries(
    admin_client_, team, rep, other_rep, pipeline, source, django_assert_num_queries
):
    url = reverse("admin:opportunities_opportunity_changelist")
    OpportunityFactory(team=team, pipeline=pipeline, source=source, owner=rep)
    admin_client_.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as one_row:
        assert admin_client_.get(url).status_code == 200
    owners = [rep, other_rep, None]
    for index in range(29):
        OpportunityFactory(team=team, pipeline=pipeline, source=source, owner=owners[index % 3])
    assert Opportunity.objects.count() == 30
    with CaptureQueriesContext(connection) as thirty_rows:
        response = admin_client_.get(url)
    assert len(response.context["cl"].result_list) == 30
    assert len(thirty_rows) == len(one_row), [query["sql"] for query in thirty_rows.captured_queries]
    with django_assert_num_queries(len(one_row)):
        admin_client_.get(url)


def test_history_rows_written_by_the_world_fixture(world):
    # Guards the fixture itself: each history table the pages above render has rows.
    assert Assignment.objects.exists()
    assert StageChange.objects.exists()
    assert Activity.objects.filter(tracking_number="JD0001").exists()
