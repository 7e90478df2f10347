"""Opportunities in the admin: every rule-bound change goes through the services."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.dates import company_today
from opportunities.models import Assignment, CloseDateChange, FieldChange, Opportunity, StageChange
from opportunities.services import opportunity_update
from tests.admin_support import change_form_data
from tests.factories import ContactFactory, CurrencyRateFactory, CustomerFactory, OpportunityFactory

CHANGELIST = "admin:opportunities_opportunity_changelist"


@pytest.fixture
def admin_client_(client, admin):
    client.force_login(admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def deals(team, pipeline, source):
    return [OpportunityFactory(team=team, pipeline=pipeline, source=source) for _ in range(4)]


def run_action(client, action, deals, **form):
    data = {"action": action, "_selected_action": [deal.pk for deal in deals], **form}
    return client.post(reverse(CHANGELIST), data)


def in_days(days):
    return company_today() + datetime.timedelta(days=days)


def test_it_assigns_the_selected_deals_to_a_rep_with_history(admin_client_, admin, rep, deals):
    response = run_action(admin_client_, "assign_to_rep", deals)
    assert response.status_code == 200  # the intermediate page
    assert not Assignment.objects.exists()

    response = run_action(admin_client_, "assign_to_rep", deals[:3], jihui_apply="1", owner=rep.pk, reason="Fair")
    assert response.status_code == 302
    assert Opportunity.objects.filter(owner=rep).count() == 3
    rows = Assignment.objects.filter(to_owner=rep)
    assert rows.count() == 3
    assert set(rows.values_list("from_owner", "by", "reason")) == {(None, admin.pk, "Fair")}


def test_it_shows_the_refusal_of_the_service_and_assigns_nothing(admin_client_, deals, outsider_rep, other_team):
    response = run_action(admin_client_, "assign_to_rep", deals, jihui_apply="1", owner=outsider_rep.pk)
    assert response.status_code == 200
    assert "is not a member of the team" in " ".join(response.context["form"].errors["owner"])
    assert not Opportunity.objects.filter(owner__isnull=False).exists()
    assert not Assignment.objects.exists()


def test_it_distributes_round_robin_across_the_team(admin_client_, team, rep, other_rep, deals):
    response = run_action(
        admin_client_, "distribute_across_team", deals, jihui_apply="1", team=team.pk, strategy="round_robin"
    )
    assert response.status_code == 302
    owners = list(Opportunity.objects.order_by("pk").values_list("owner", flat=True))
    assert sorted(owners) == sorted([rep.pk, other_rep.pk] * 2)
    assert Assignment.objects.count() == 4


def test_it_pushes_the_close_date_through_the_service(admin_client_, deals):
    target = in_days(60)
    response = run_action(admin_client_, "push_close_date", deals[:2], jihui_apply="1", new_date=target.isoformat())
    assert response.status_code == 302
    for deal in deals[:2]:
        deal.refresh_from_db()
        assert deal.expected_close_date == target
        assert deal.close_date_pushes == 1
    assert CloseDateChange.objects.count() == 2


def test_it_pushes_no_date_if_one_deal_is_closed(admin_client_, deals):
    Opportunity.objects.filter(pk=deals[1].pk).update(status=Opportunity.Status.WON)
    response = run_action(
        admin_client_, "push_close_date", deals[:2], jihui_apply="1", new_date=in_days(60).isoformat()
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not CloseDateChange.objects.exists()


def test_it_creates_an_opportunity_through_the_service(admin_client_, admin, team, rep, pipeline, source):
    CurrencyRateFactory(currency="USD")
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    url = reverse("admin:opportunities_opportunity_add")
    data = change_form_data(admin_client_.get(url))
    data.update(
        {
            "title": "Brake pads 5000 sets",
            "customer": customer.pk,
            "contact": contact.pk,
            "pipeline": pipeline.pk,
            "team": team.pk,
            "owner": rep.pk,
            "source": source.pk,
            "amount": "1000",
            "currency": "USD",
            "expected_close_date": in_days(30).isoformat(),
            "difficulty": "2.50",
        }
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    deal = Opportunity.objects.get(title="Brake pads 5000 sets")
    assert (deal.owner, deal.created_by, deal.stage.name, deal.probability) == (rep, admin, "New", 10)
    assert deal.amount_base == Decimal("7100.00")
    assert deal.difficulty == Decimal("2.50")
    assert StageChange.objects.filter(opportunity=deal, from_stage=None).count() == 1
    assert Assignment.objects.filter(opportunity=deal, to_owner=rep).count() == 1


def test_it_shows_the_services_refusal_on_create_and_saves_nothing(
    admin_client_, team, outsider_rep, other_team, pipeline, source
):
    url = reverse("admin:opportunities_opportunity_add")
    data = change_form_data(admin_client_.get(url))
    data.update(
        {
            "title": "Valves",
            "customer": CustomerFactory().pk,
            "pipeline": pipeline.pk,
            "team": team.pk,
            "owner": outsider_rep.pk,
            "source": source.pk,
            "expected_close_date": in_days(30).isoformat(),
            "currency": "CNY",
        }
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "is not a member of the team" in " ".join(response.context["adminform"].form.errors["owner"])
    assert not Opportunity.objects.exists()
    assert not StageChange.objects.exists()


def test_it_edits_plain_fields_through_the_service_with_history(admin_client_, admin, deals):
    deal = deals[0]
    url = reverse("admin:opportunities_opportunity_change", args=[deal.pk])
    data = change_form_data(admin_client_.get(url))
    data.update({"title": "Renamed", "difficulty": "3.00"})
    response = admin_client_.post(url, data)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.difficulty, deal.version) == ("Renamed", Decimal("3.00"), 2)
    assert set(FieldChange.objects.filter(opportunity=deal).values_list("field", flat=True)) == {"title", "difficulty"}


def test_it_reports_a_conflict_when_the_page_is_stale_and_saves_nothing(admin_client_, admin, deals):
    deal = deals[0]
    url = reverse("admin:opportunities_opportunity_change", args=[deal.pk])
    data = change_form_data(admin_client_.get(url))
    opportunity_update(opportunity=deal, by=admin, version=deal.version, title="Changed meanwhile")
    data["title"] = "My edit"
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "Someone else changed this record" in " ".join(response.context["adminform"].form.non_field_errors())
    deal.refresh_from_db()
    assert deal.title == "Changed meanwhile"


def test_it_does_not_let_the_form_change_owner_stage_status_or_dates(admin_client_, rep, stages, deals):
    deal = deals[0]
    url = reverse("admin:opportunities_opportunity_change", args=[deal.pk])
    response = admin_client_.get(url)
    form_fields = set(response.context["adminform"].form.fields)
    assert not form_fields & {"owner", "stage", "status", "expected_close_date", "probability", "team", "pipeline"}
    data = change_form_data(response)
    data.update(
        {
            "owner": rep.pk,
            "stage": stages["Quote"].pk,
            "status": "won",
            "probability": "99",
            "expected_close_date": in_days(90).isoformat(),
        }
    )
    assert admin_client_.post(url, data).status_code == 302
    fresh = Opportunity.objects.get(pk=deal.pk)
    assert (fresh.owner, fresh.stage, fresh.status, fresh.probability, fresh.expected_close_date) == (
        deal.owner,
        deal.stage,
        deal.status,
        deal.probability,
        deal.expected_close_date,
    )


def test_it_never_deletes_an_opportunity(admin_client_, deals):
    response = admin_client_.post(
        reverse("admin:opportunities_opportunity_delete", args=[deals[0].pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Opportunity.objects.count() == 4


def test_it_filters_overdue_and_pool_deals(admin_client_, rep, deals):
    Opportunity.objects.filter(pk=deals[0].pk).update(expected_close_date=in_days(-3))
    Opportunity.objects.filter(pk=deals[1].pk).update(owner=rep)
    response = admin_client_.get(reverse(CHANGELIST), {"due": "overdue"})
    assert list(response.context["cl"].result_list) == [deals[0]]
    response = admin_client_.get(reverse(CHANGELIST), {"owner": "pool"})
    assert {deal.pk for deal in response.context["cl"].result_list} == {deals[0].pk, deals[2].pk, deals[3].pk}


def test_it_rolls_back_the_service_when_the_page_is_shown_again_with_errors(admin_client_, deals):
    deal = deals[0]
    url = reverse("admin:opportunities_opportunity_change", args=[deal.pk])
    data = change_form_data(admin_client_.get(url))
    data["title"] = "Half-saved?"
    del data["assignments-TOTAL_FORMS"]  # a broken inline: the page comes back with an error
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert response.context["errors"]
    deal.refresh_from_db()
    assert (deal.title, deal.version) != ("Half-saved?", 2)
    assert not FieldChange.objects.filter(opportunity=deal).exists()
