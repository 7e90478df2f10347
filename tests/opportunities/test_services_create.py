"""opportunity_create: who may create what, and what is stored."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.dates import company_today
from opportunities.models import Assignment, Opportunity, StageChange
from opportunities.services import opportunity_create
from tests.factories import CurrencyRateFactory, CustomerFactory, LeadSourceFactory, PipelineFactory

pytestmark = pytest.mark.django_db


def in_days(days: int) -> datetime.date:
    return company_today() + datetime.timedelta(days=days)


@pytest.fixture
def create(pipeline, source, customer, team):
    """Call the service with sensible defaults; keyword arguments override them."""

    def call(**kwargs):
        kwargs.setdefault("title", "500 LED panels")
        kwargs.setdefault("customer", customer)
        kwargs.setdefault("pipeline", pipeline)
        kwargs.setdefault("source", source)
        kwargs.setdefault("expected_close_date", in_days(30))
        return opportunity_create(**kwargs)

    return call


def assert_nothing_saved():
    assert Opportunity.objects.count() == 0
    assert StageChange.objects.count() == 0
    assert Assignment.objects.count() == 0


def test_it_creates_a_deal_owned_by_the_rep_in_their_team(create, rep, team, stages):
    deal = create(by=rep)

    deal.refresh_from_db()
    assert deal.owner == rep
    assert deal.team == team
    assert deal.status == Opportunity.Status.OPEN
    assert deal.stage == stages["New"]
    assert deal.probability == 10
    assert deal.probability_is_manual is False
    assert deal.difficulty == Decimal("1.00")
    assert deal.created_by == rep
    assert deal.version == 1
    change = StageChange.objects.get(opportunity=deal)
    assert (change.from_stage, change.to_stage, change.by, change.probability_after) == (None, stages["New"], rep, 10)
    assignment = Assignment.objects.get(opportunity=deal)
    assert (assignment.from_owner, assignment.to_owner, assignment.by, assignment.to_team) == (None, rep, rep, team)


def test_it_lets_a_rep_name_themself_as_owner(create, rep, team):
    deal = create(by=rep, owner=rep, team=team)
    assert deal.owner == rep


def test_it_refuses_a_rep_choosing_another_owner(create, rep, other_rep, team):
    with pytest.raises(PermissionDenied):
        create(by=rep, owner=other_rep, team=team)
    assert_nothing_saved()


@pytest.mark.parametrize(
    "pay_field",
    [{"difficulty": Decimal("2.50")}, {"is_new_customer": True}, {"is_new_product": True}, {"probability": 90}],
    ids=["difficulty", "new-customer", "new-product", "probability"],
)
def test_it_refuses_a_rep_setting_pay_fields(create, rep, team, pay_field):
    with pytest.raises(PermissionDenied):
        create(by=rep, team=team, **pay_field)
    assert_nothing_saved()


def test_it_refuses_a_user_outside_the_team(create, outsider_rep, team, other_team):
    with pytest.raises(PermissionDenied):
        create(by=outsider_rep, team=team)
    assert_nothing_saved()


def test_it_refuses_an_inactive_user(create, inactive_rep, team):
    with pytest.raises(PermissionDenied):
        create(by=inactive_rep, team=team)
    assert_nothing_saved()


def test_it_lets_a_manager_create_for_a_member_with_pay_fields(create, manager, other_rep, team):
    customer = CustomerFactory(created_by=manager)

    deal = create(
        by=manager,
        team=team,
        owner=other_rep,
        customer=customer,
        difficulty="2.5",
        is_new_customer=True,
        is_new_product=True,
        probability=35,
    )

    deal.refresh_from_db()
    assert deal.owner == other_rep
    assert deal.difficulty == Decimal("2.50")
    assert (deal.is_new_customer, deal.is_new_product) == (True, True)
    assert (deal.probability, deal.probability_is_manual) == (35, True)
    assignment = Assignment.objects.get(opportunity=deal)
    assert (assignment.to_owner, assignment.by) == (other_rep, manager)


def test_it_lets_a_manager_create_into_the_pool(create, manager, team):
    deal = create(by=manager, team=team, customer=CustomerFactory(created_by=manager))

    deal.refresh_from_db()
    assert deal.owner is None
    assert deal.team == team
    assert not Assignment.objects.filter(opportunity=deal).exists()
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_it_refuses_an_owner_outside_the_team(create, manager, team, outsider_rep, other_team):
    with pytest.raises(ValidationError) as excinfo:
        create(by=manager, team=team, owner=outsider_rep, customer=CustomerFactory(created_by=manager))
    assert "owner" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_refuses_a_deactivated_owner(create, manager, team, inactive_rep):
    with pytest.raises(ValidationError) as excinfo:
        create(by=manager, team=team, owner=inactive_rep, customer=CustomerFactory(created_by=manager))
    assert "owner" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_refuses_a_manager_of_another_team(create, outsider_manager, team, other_team):
    with pytest.raises(PermissionDenied):
        create(by=outsider_manager, team=team, customer=CustomerFactory(created_by=outsider_manager))
    assert_nothing_saved()


def test_it_refuses_a_difficulty_out_of_range(create, manager, team):
    with pytest.raises(ValidationError) as excinfo:
        create(by=manager, team=team, difficulty="10.01", customer=CustomerFactory(created_by=manager))
    assert "difficulty" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_refuses_a_close_date_in_the_past(create, rep):
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, expected_close_date=in_days(-1))
    assert "expected_close_date" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_refuses_a_missing_close_date(create, rep):
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, expected_close_date=None)
    assert "expected_close_date" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_accepts_today_as_close_date(create, rep):
    assert create(by=rep, expected_close_date=company_today()).expected_close_date == company_today()


def test_it_refuses_a_stage_of_another_pipeline(create, rep):
    foreign = PipelineFactory(name="Spare parts").first_open_stage()
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, stage=foreign)
    assert "stage" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_refuses_to_start_in_a_closed_stage(create, rep, stages):
    with pytest.raises(ValidationError):
        create(by=rep, stage=stages["Won"])
    assert_nothing_saved()


def test_it_starts_in_a_chosen_stage_with_its_probability(create, rep, stages):
    deal = create(by=rep, stage=stages["Quote"])
    assert (deal.stage, deal.probability, deal.probability_is_manual) == (stages["Quote"], 70, False)


def test_it_refuses_an_inactive_source(create, rep):
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, source=LeadSourceFactory(is_active=False))
    assert "source" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_refuses_a_customer_the_user_cannot_see(create, rep):
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, customer=CustomerFactory(created_by=None))
    assert "customer" in excinfo.value.message_dict
    assert_nothing_saved()


def test_it_converts_usd_with_the_rate_in_force(create, rep):
    CurrencyRateFactory(currency="USD", rate=Decimal("6.900000"), valid_from=in_days(-400))
    CurrencyRateFactory(currency="USD", rate=Decimal("7.123400"), valid_from=in_days(-10))
    CurrencyRateFactory(currency="USD", rate=Decimal("7.500000"), valid_from=in_days(1))  # not yet in force

    deal = create(by=rep, amount="1000.50", currency="usd")

    deal.refresh_from_db()
    assert deal.currency == "USD"
    assert deal.amount == Decimal("1000.50")
    assert deal.exchange_rate == Decimal("7.123400")
    assert deal.amount_base == Decimal("7126.96")  # 1000.50 × 7.1234 = 7126.9617


def test_it_stores_cny_at_rate_one(create, rep):
    deal = create(by=rep, amount=Decimal("880"))
    deal.refresh_from_db()
    assert (deal.currency, deal.exchange_rate, deal.amount_base) == ("CNY", Decimal("1"), Decimal("880.00"))


def test_it_refuses_a_currency_without_a_rate(create, rep):
    CurrencyRateFactory(currency="USD")
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, amount="100", currency="EUR")
    [message] = excinfo.value.message_dict["currency"]
    assert "EUR" in message
    assert "administrator" in message
    assert_nothing_saved()


def test_it_refuses_a_negative_amount(create, rep):
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, amount="-1")
    assert "amount" in excinfo.value.message_dict
    assert_nothing_saved()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999", "twelve"])
def test_it_refuses_an_amount_that_is_not_a_number(create, rep, value):
    with pytest.raises(ValidationError) as excinfo:
        create(by=rep, amount=value)
    assert "amount" in excinfo.value.message_dict
    assert_nothing_saved()


@pytest.mark.parametrize("value", ["NaN", "-Infinity", ""])
def test_it_refuses_a_difficulty_that_is_not_a_number(create, manager, team, value):
    with pytest.raises(ValidationError) as excinfo:
        create(by=manager, team=team, customer=CustomerFactory(created_by=manager), difficulty=value)
    assert "difficulty" in excinfo.value.message_dict
    assert_nothing_saved()
