"""customers_matching: existing customers that look like the same company."""

import pytest

from customers.normalize import normalize_company, normalize_email, normalize_phone
from customers.selectors import customers_matching
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def huaqiang():
    customer = CustomerFactory(name="Shenzhen Huaqiang Electronics Co., Ltd.")
    ContactFactory(customer=customer, email="Li.Wei@HQ.example.cn", phone="+86 138 0013 8000")
    ContactFactory(customer=customer, email="sales@hq.example.cn", phone="")
    return customer


def test_it_matches_by_company_name_in_another_spelling(huaqiang):
    CustomerFactory(name="Huaqiang Trading")
    found = customers_matching(name_normalized=normalize_company("SHENZHEN HUAQIANG ELECTRONICS COMPANY LIMITED"))
    assert list(found) == [huaqiang]


def test_it_matches_by_contact_email_or_phone_once(huaqiang):
    found = customers_matching(
        email_normalized=normalize_email(" li.wei@hq.example.CN"), phone_normalized=normalize_phone("0086-13800138000")
    )
    assert list(found) == [huaqiang]


def test_it_matches_nothing_without_keys(huaqiang):
    assert not customers_matching().exists()
    assert not customers_matching(phone_normalized="").exists()


def test_it_does_not_match_a_different_company(huaqiang):
    assert not customers_matching(name_normalized=normalize_company("Huaqiang Trading")).exists()
