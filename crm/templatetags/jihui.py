"""Display filters shared by the pages: money, people, links that may not exist yet."""

from decimal import Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

register = template.Library()

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥"}


@register.filter
def money(value, currency: str = "CNY") -> str:
    """``¥85,000`` / ``$12.50``: cents only below 1,000; no amount is a dash."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    # Cents only where they matter: on small amounts that are not whole.
    whole = amount == amount.to_integral_value() or abs(amount) >= 1000
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    currency = (currency or "CNY").upper()
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{text}" if sign else f"{currency} {text}"


@register.filter
def person(user) -> str:
    """A user's full name, else their user name; no user is the team's unassigned pool."""
    if user is None:
        return _("Unassigned")
    return user.get_full_name() or user.username


@register.simple_tag
def opportunity_url(opportunity) -> str:
    """The opportunity's page; empty while that page is not installed (it is built separately)."""
    try:
        return reverse("opportunities:detail", args=[opportunity.pk])
    except NoReverseMatch:
        return ""
