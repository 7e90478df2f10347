"""customer_create and contact_create."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Contact, Customer
from customers.selectors import customers_visible_to
from customers.services import contact_create, customer_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_it_records_a_customer_the_creator_then_sees(rep, team):
    customer = customer_create(
        by=rep, name="  深圳市华强电子有限公司 ", country=" China ", website="https://hq.example.cn"
    )

    customer.refresh_from_db()
    assert (customer.name, customer.country, customer.created_by) == ("深圳市华强电子有限公司", "China", rep)
    assert customer.name_normalized == "深圳市华强电子"
    assert customers_visible_to(user=rep).filter(pk=customer.pk).exists()


def test_it_refuses_a_blank_company_name(rep):
    with pytest.raises(ValidationError) as excinfo:
        customer_create(by=rep, name="   ")
    assert "name" in excinfo.value.message_dict
    assert not Customer.objects.exists()


def test_it_refuses_a_bad_website(rep):
    with pytest.raises(ValidationError) as excinfo:
        customer_create(by=rep, name="Acme", website="not a url")
    assert "website" in excinfo.value.message_dict
    assert not Customer.objects.exists()


def test_it_refuses_an_inactive_user(inactive_rep):
    with pytest.raises(PermissionDenied):
        customer_create(by=inactive_rep, name="Acme")
    assert not Customer.objects.exists()


def test_it_records_a_contact_with_normalised_email_and_phone(rep, customer):
    contact = contact_create(
        by=rep,
        customer=customer,
        name=" Hans Müller ",
        title="Einkauf",
        email=" Hans.Mueller@Example.DE ",
        phone="+49 (0)89 1234-567",
        wechat="hansm",
    )

    contact.refresh_from_db()
    assert (contact.name, contact.customer, contact.wechat) == ("Hans Müller", customer, "hansm")
    assert contact.email_normalized == "hans.mueller@example.de"
    assert contact.phone_normalized == "490891234567"


def test_it_refuses_a_contact_without_a_name(rep, customer):
    with pytest.raises(ValidationError) as excinfo:
        contact_create(by=rep, customer=customer, name="")
    assert "name" in excinfo.value.message_dict
    assert not Contact.objects.exists()


def test_it_refuses_a_bad_email(rep, customer):
    with pytest.raises(ValidationError) as excinfo:
        contact_create(by=rep, customer=customer, name="Hans", email="hans at example")
    assert "email" in excinfo.value.message_dict


def test_it_refuses_a_contact_for_a_customer_the_user_cannot_see(other_rep, customer, team):
    with pytest.raises(ValidationError) as excinfo:
        contact_create(by=other_rep, customer=customer, name="Intruder")
    assert "customer" in excinfo.value.message_dict
    assert not Contact.objects.exists()


def test_it_lets_the_manager_add_a_contact_to_a_customer_of_the_team(deal, manager):
    contact = contact_create(by=manager, customer=deal.customer, name="Second buyer")
    assert contact.customer == deal.customer


def test_it_lets_an_admin_add_a_contact_anywhere(admin):
    customer = CustomerFactory(created_by=None)
    assert contact_create(by=admin, customer=customer, name="Someone").customer == customer
