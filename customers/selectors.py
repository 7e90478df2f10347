import re

from django.db.models import QuerySet

from customers.models import Contact, Customer
from teams.visibility import customer_visibility_q


def customers_visible_to(*, user) -> QuerySet[Customer]:
    return Customer.objects.filter(customer_visibility_q(user))


def contacts_visible_to(*, user) -> QuerySet[Contact]:
    return Contact.objects.filter(customer__in=customers_visible_to(user=user).values("pk")).select_related("customer")


# --- pages ---------------------------------------------------------------------------------

AUTOCOMPLETE_SIZE = 20
# The suggestions read "Name (#12)": the id tells apart two customers of the same name.
CUSTOMER_ID = re.compile(r"\(#(\d{1,18})\)\s*$")


def customer_from_text(*, user, text: str) -> tuple[Customer | None, int]:
    """The visible customer ``text`` names — a suggestion "Name (#id)", or exactly a name —
    and how many visible customers it matches (0: none; 2: ambiguous, pick from the list)."""
    text = (text or "").strip()
    if not text:
        return None, 0
    visible = customers_visible_to(user=user)
    match = CUSTOMER_ID.search(text)
    if match:
        customer = visible.filter(pk=int(match.group(1))).first()
        return customer, int(customer is not None)
    named = list(visible.filter(name__iexact=text)[:2])
    return (named[0] if len(named) == 1 else None), len(named)


def customers_recent(*, user, limit: int = 50) -> QuerySet[Customer]:
    """The customers ``user`` sees, newest first (the create form's first suggestions)."""
    return customers_visible_to(user=user).order_by("-created_at", "-pk")[:limit]


def customers_search_q(text: str):
    """Every word in the company name, country, industry or a contact's name, e-mail or phone."""
    from django.db.models import Exists, OuterRef, Q

    condition = Q()
    for term in text.split()[:10]:
        contact_matches = Contact.objects.filter(customer=OuterRef("pk")).filter(
            Q(name__icontains=term) | Q(email__icontains=term) | Q(phone__icontains=term)
        )
        in_company = Q(name__icontains=term) | Q(country__icontains=term) | Q(industry__icontains=term)
        condition &= in_company | Q(Exists(contact_matches))
    return condition


def customers_autocomplete(*, user, text: str) -> QuerySet[Customer]:
    """Visible customers whose name contains ``text``, those starting with it first."""
    from django.db.models import Case, IntegerField, Value, When

    text = (text or "").strip()
    # "Name (#12)", as the suggestions read: look the name up again.
    text = text.rsplit(" (#", 1)[0] if text.endswith(")") else text
    if not text:
        return customers_recent(user=user, limit=AUTOCOMPLETE_SIZE)
    starts = Case(When(name__istartswith=text, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        customers_visible_to(user=user)
        .filter(name__icontains=text)
        .annotate(starts=starts)
        .order_by("starts", "name", "pk")[:AUTOCOMPLETE_SIZE]
    )


def customers_for_list(*, user, search: str = "") -> QuerySet[Customer]:
    """The customer list: what ``user`` sees, with how many of its deals ``user`` sees (open
    and in all) and how many contacts it has — counted per row shown, so one query per page."""
    from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
    from django.db.models.functions import Coalesce

    from opportunities.models import Opportunity

    def count_of(queryset):
        counted = queryset.order_by().values("customer").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    deals = Opportunity.objects.visible_to(user).filter(customer=OuterRef("pk"))
    customers = customers_visible_to(user=user)
    if search:
        customers = customers.filter(customers_search_q(search))
    return customers.annotate(
        deal_count=count_of(deals),
        open_count=count_of(deals.filter(Q(status=Opportunity.Status.OPEN))),
        contact_count=count_of(Contact.objects.filter(customer=OuterRef("pk"))),
    ).order_by("name", "pk")


def customer_get_for_user(*, user, pk: int) -> Customer:
    """One visible customer; anything else is Customer.DoesNotExist (a 404 for callers)."""
    return customers_visible_to(user=user).get(pk=pk)
