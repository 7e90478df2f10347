"""opportunity_update: optimistic locking, field history and who may change what."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.dates import company_today
from crm.exceptions import ConflictError
from opportunities.models import CloseDateChange, FieldChange, Opportunity
from opportunities.services import opportunity_update
from tests.factories import ContactFactory, CurrencyRateFactory, CustomerFactory, LeadSourceFactory

pytestmark = pytest.mark.django_db


def in_days(days: int) -> datetime.date:
    return company_today() + datetime.timedelta(days=days)


def changes_of(deal) -> dict[str, tuple[str, str]]:
    return {row.field: (row.old_value, row.new_value) for row in FieldChange.objects.filter(opportunity=deal)}


def test_it_saves_plain_fields_and_records_each_change(deal, rep):
    old_title = deal.title

    updated = opportunity_update(opportunity=deal, by=rep, version=1, title="600 LED panels", description="Two sizes")

    deal.refresh_from_db()
    assert deal.title == "600 LED panels"
    assert deal.description == "Two sizes"
    assert deal.version == 2
    assert updated.version == 2
    assert changes_of(deal) == {"title": (old_title, "600 LED panels"), "description": ("", "Two sizes")}
    assert set(FieldChange.objects.values_list("by", flat=True)) == {rep.pk}


def test_it_refuses_a_stale_version_and_saves_nothing(deal, rep):
    opportunity_update(opportunity=deal, by=rep, version=1, title="First edit")

    with pytest.raises(ConflictError) as excinfo:
        opportunity_update(opportunity=deal, by=rep, version=1, title="Second edit", amount="5")

    assert excinfo.value.current_version == 2
    deal.refresh_from_db()
    assert (deal.title, deal.amount, deal.version) == ("First edit", Decimal("1000.00"), 2)
    assert FieldChange.objects.filter(field="amount").count() == 0


def test_it_writes_nothing_when_nothing_changed(deal, rep):
    opportunity_update(opportunity=deal, by=rep, version=1, title=deal.title)
    deal.refresh_from_db()
    assert deal.version == 1
    assert not FieldChange.objects.exists()


def test_it_refuses_fields_that_have_their_own_service(deal, manager, other_rep, stages):
    for field, value in [("owner", other_rep), ("stage", stages["Quote"]), ("status", "won")]:
        with pytest.raises(ValidationError):
            opportunity_update(opportunity=deal, by=manager, version=None, **{field: value})
    deal.refresh_from_db()
    assert (deal.version, deal.stage, deal.status) == (1, stages["New"], "open")


def test_it_refuses_another_rep(deal, other_rep):
    with pytest.raises(PermissionDenied):
        opportunity_update(opportunity=deal, by=other_rep, version=1, title="Mine now")
    deal.refresh_from_db()
    assert deal.version == 1


@pytest.mark.parametrize(
    "change",
    [
        {"difficulty": "2.50"},
        {"is_new_customer": True},
        {"is_new_product": True},
        {"probability": 80},
        {"probability_is_manual": True},
    ],
    ids=["difficulty", "new-customer", "new-product", "probability", "pin-probability"],
)
def test_it_refuses_a_rep_changing_pay_fields(deal, rep, change):
    with pytest.raises(PermissionDenied):
        opportunity_update(opportunity=deal, by=rep, version=1, title="Sneaky", **change)
    deal.refresh_from_db()
    assert (deal.title, deal.difficulty, deal.probability, deal.version) == (
        "500 LED panels for Müller",
        Decimal("1.00"),
        10,
        1,
    )
    assert (deal.is_new_customer, deal.is_new_product) == (False, False)
    assert not FieldChange.objects.exists()


def test_it_lets_a_rep_resubmit_unchanged_pay_fields(deal, rep):
    # An edit form posts every field; the values the rep cannot change come back as they were.
    opportunity_update(
        opportunity=deal,
        by=rep,
        version=1,
        title="Edited",
        difficulty="1",
        is_new_customer=False,
        probability=10,
    )
    deal.refresh_from_db()
    assert (deal.title, deal.probability_is_manual) == ("Edited", False)


def test_it_refuses_a_rep_clearing_a_managers_override(deal, rep, manager):
    opportunity_update(opportunity=deal, by=manager, version=1, probability=80)
    with pytest.raises(PermissionDenied):
        opportunity_update(opportunity=deal, by=rep, version=2, probability_is_manual=False)
    deal.refresh_from_db()
    assert (deal.probability, deal.probability_is_manual) == (80, True)


def test_it_lets_a_manager_pin_the_stage_probability(deal, manager):
    opportunity_update(opportunity=deal, by=manager, version=1, probability=10, probability_is_manual=True)
    deal.refresh_from_db()
    assert (deal.probability, deal.probability_is_manual) == (10, True)


def test_it_lets_a_manager_set_difficulty_flags_and_probability(deal, manager):
    opportunity_update(opportunity=deal, by=manager, version=1, difficulty="2.5", is_new_customer=True, probability=80)

    deal.refresh_from_db()
    assert deal.difficulty == Decimal("2.50")
    assert deal.is_new_customer is True
    assert (deal.probability, deal.probability_is_manual) == (80, True)
    assert changes_of(deal) == {
        "difficulty": ("1.00", "2.50"),
        "is_new_customer": ("false", "true"),
        "probability": ("10", "80"),
        "probability_is_manual": ("false", "true"),
    }


def test_it_lets_an_admin_set_difficulty(deal, admin):
    opportunity_update(opportunity=deal, by=admin, version=1, difficulty="0.5")
    deal.refresh_from_db()
    assert deal.difficulty == Decimal("0.50")


def test_it_refuses_a_manager_of_another_team(deal, outsider_manager, other_team):
    with pytest.raises(PermissionDenied):
        opportunity_update(opportunity=deal, by=outsider_manager, version=1, difficulty="2")
    deal.refresh_from_db()
    assert deal.difficulty == Decimal("1.00")


def test_it_refuses_a_difficulty_out_of_range(deal, manager):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_update(opportunity=deal, by=manager, version=1, difficulty="0.09")
    assert "difficulty" in excinfo.value.message_dict


def test_it_hands_the_probability_back_to_the_stage(deal, manager):
    opportunity_update(opportunity=deal, by=manager, version=1, probability=80)

    opportunity_update(opportunity=deal, by=manager, version=2, probability_is_manual=False)

    deal.refresh_from_db()
    assert (deal.probability, deal.probability_is_manual, deal.version) == (10, False, 3)


def test_it_converts_a_new_amount_and_records_the_base_amount(deal, rep):
    CurrencyRateFactory(currency="USD", rate=Decimal("7.000000"), valid_from=in_days(-5))

    opportunity_update(opportunity=deal, by=rep, version=1, amount="250", currency="USD")

    deal.refresh_from_db()
    assert (deal.amount, deal.currency, deal.exchange_rate, deal.amount_base) == (
        Decimal("250.00"),
        "USD",
        Decimal("7.000000"),
        Decimal("1750.00"),
    )
    recorded = changes_of(deal)
    assert recorded["amount"] == ("1000.00", "250.00")
    assert recorded["currency"] == ("CNY", "USD")
    assert recorded["amount_base"] == ("1000.00", "1750.00")


def test_it_refuses_a_currency_without_a_rate_and_saves_nothing(deal, rep):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_update(opportunity=deal, by=rep, version=1, title="Renamed", currency="JPY")
    assert "JPY" in excinfo.value.message_dict["currency"][0]
    deal.refresh_from_db()
    assert (deal.title, deal.currency, deal.version) == ("500 LED panels for Müller", "CNY", 1)


def test_it_refuses_a_contact_of_another_customer(deal, rep):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_update(opportunity=deal, by=rep, version=1, contact=ContactFactory())
    assert "contact" in excinfo.value.message_dict


def test_it_changes_the_customer_and_drops_the_old_contact(deal, rep):
    deal.contact = ContactFactory(customer=deal.customer)
    deal.save()
    new_customer = CustomerFactory(created_by=rep)

    opportunity_update(opportunity=deal, by=rep, version=1, customer=new_customer)

    deal.refresh_from_db()
    assert (deal.customer, deal.contact) == (new_customer, None)


def test_it_refuses_an_inactive_source(deal, rep):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_update(opportunity=deal, by=rep, version=1, source=LeadSourceFactory(is_active=False))
    assert "source" in excinfo.value.message_dict


def test_it_pushes_a_later_close_date_and_counts_it(deal, rep):
    old = deal.expected_close_date

    opportunity_update(
        opportunity=deal,
        by=rep,
        version=1,
        expected_close_date=old + datetime.timedelta(days=7),
        reason="Buyer on holiday",
    )

    deal.refresh_from_db()
    assert deal.expected_close_date == old + datetime.timedelta(days=7)
    assert deal.close_date_pushes == 1
    change = CloseDateChange.objects.get(opportunity=deal)
    assert (change.old_date, change.new_date, change.by, change.reason) == (
        old,
        old + datetime.timedelta(days=7),
        rep,
        "Buyer on holiday",
    )


def test_it_records_an_earlier_close_date_without_counting_it(deal, rep):
    opportunity_update(opportunity=deal, by=rep, version=1, expected_close_date=in_days(3))
    deal.refresh_from_db()
    assert (deal.expected_close_date, deal.close_date_pushes) == (in_days(3), 0)
    assert CloseDateChange.objects.filter(opportunity=deal).count() == 1


def test_it_refuses_a_past_close_date_and_keeps_the_other_edits_unsaved(deal, rep):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_update(opportunity=deal, by=rep, version=1, title="Renamed", expected_close_date=in_days(-1))
    assert "expected_close_date" in excinfo.value.message_dict
    deal.refresh_from_db()
    assert (deal.title, deal.version) == ("500 LED panels for Müller", 1)
    assert not FieldChange.objects.exists()
    assert not CloseDateChange.objects.exists()


def test_it_gives_the_caller_the_saved_row(deal, rep):
    result = opportunity_update(opportunity=deal, by=rep, version=1, title="New", expected_close_date=in_days(60))
    assert result == Opportunity.objects.get(pk=deal.pk)
    assert (result.title, result.expected_close_date, result.version) == ("New", in_days(60), 3)
