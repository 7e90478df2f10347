from django.db.models import QuerySet

from customers.models import Contact, Customer
from teams.visibility import customer_visibility_q


def customers_visible_to(*, user) -> QuerySet[Customer]:
    return Customer.objects.filter(customer_visibility_q(user))


def contacts_visible_to(*, user) -> QuerySet[Contact]:
    return Contact.objects.filter(customer__in=customers_visible_to(user=user).values("pk")).select_related("customer")


def customers_matching(
    *, name_normalized: str = "", email_normalized: str = "", phone_normalized: str = ""
) -> QuerySet[Customer]:
    """Existing customers that look like the same company (for duplicate warnings on import)."""
    from django.db.models import Q

    condition = Q(pk__in=[])
    if name_normalized:
        condition |= Q(name_normalized=name_normalized)
    if email_normalized:
        condition |= Q(contacts__email_normalized=email_normalized)
    if phone_normalized:
        condition |= Q(contacts__phone_normalized=phone_normalized)
    return Customer.objects.filter(condition).distinct()
