"""Customer and contact writes."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Contact, Customer
from teams.models import User
from teams.visibility import customer_visibility_q


def _require_active(by: User) -> None:
    if by is None or not by.is_active:
        raise PermissionDenied(_("Your account is not active."))


@transaction.atomic
def customer_create(
    *, by: User, name: str, country: str = "", website: str = "", industry: str = "", notes: str = ""
) -> Customer:
    """Any active user may record a customer; they see it from then on (created_by)."""
    _require_active(by)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter the company name.")})
    customer = Customer(
        name=name,
        country=country.strip(),
        website=website.strip(),
        industry=industry.strip(),
        notes=notes,
        created_by=by,
    )
    customer.full_clean(exclude=["created_by"])
    customer.save()
    return customer


@transaction.atomic
def contact_create(
    *,
    by: User,
    customer: Customer,
    name: str,
    title: str = "",
    phone: str = "",
    email: str = "",
    wechat: str = "",
    whatsapp: str = "",
) -> Contact:
    """Add a person to a customer the acting user can see (another rep's customer is unknown to them)."""
    _require_active(by)
    if not Customer.objects.filter(customer_visibility_q(by), pk=customer.pk).exists():
        raise ValidationError({"customer": _("Unknown customer.")})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter the contact's name.")})
    contact = Contact(
        customer=customer,
        name=name,
        title=title.strip(),
        phone=phone.strip(),
        email=email.strip(),
        wechat=wechat.strip(),
        whatsapp=whatsapp.strip(),
    )
    contact.full_clean()
    contact.save()
    return contact
