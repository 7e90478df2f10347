import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from reports.models import IncentivePolicy


@pytest.mark.django_db
def test_it_defaults_to_1000_cny_without_bonuses():
    policy = IncentivePolicy.objects.create(effective_from=datetime.date(2026, 1, 1))
    assert (policy.base_reward, policy.currency, policy.new_customer_bonus, policy.new_product_bonus) == (
        Decimal("1000.00"),
        "CNY",
        Decimal("0.00"),
        Decimal("0.00"),
    )


@pytest.mark.django_db
def test_it_keeps_every_policy_in_one_currency():
    IncentivePolicy.objects.create(effective_from=datetime.date(2026, 1, 1))
    other = IncentivePolicy(effective_from=datetime.date(2026, 6, 1), currency="usd")
    with pytest.raises(ValidationError) as error:
        other.full_clean()
    assert "currency" in error.value.message_dict
    IncentivePolicy(effective_from=datetime.date(2026, 6, 1), currency="cny").full_clean()


@pytest.mark.django_db
def test_it_refuses_negative_rewards():
    with pytest.raises(ValidationError):
        IncentivePolicy(effective_from=datetime.date(2026, 1, 1), base_reward=Decimal("-1")).full_clean()
