"""Display filters of the board and the opportunity page: people, money, staleness."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

from opportunities.selectors import opportunity_is_stale

register = template.Library()

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥"}


@register.filter
def person(user) -> str:
    """A user's full name, else their username; None is the team's unassigned pool."""
    if user is None:
        return _("Unassigned")
    return user.get_full_name() or user.username


@register.filter
def initials(user) -> str:
    if user is None:
        return "—"
    name = user.get_full_name() or user.username
    # Chinese names read by their given name (the last characters); Latin ones by their initials.
    if any("\u4e00" <= char <= "\u9fff" for char in name):
        return name.replace(" ", "")[-2:]
    return "".join(part[0] for part in name.split()[:2]).upper() or name[:2].upper()


@register.filter
def money(value, currency: str = "CNY") -> str:
    """``¥85,000`` / ``$12,500.50``: whole amounts without cents; empty amounts as a dash."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    currency = (currency or "CNY").upper()
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{text}" if sign else f"{currency} {text}"


@register.filter
def money_whole(value, currency: str = "CNY") -> str:
    """Money rounded to whole units, for totals where cents are noise."""
    if value is None or value == "":
        return "—"
    try:
        return money(Decimal(str(value)).quantize(Decimal("1")), currency)
    except InvalidOperation:
        return str(value)


@register.filter
def is_stale(opportunity, today=None) -> bool:
    """The selector's staleness rule, for a card already loaded with its stage (no query)."""
    return opportunity_is_stale(opportunity=opportunity, today=today)


@register.filter
def is_overdue(opportunity, today) -> bool:
    return bool(opportunity.is_open and opportunity.expected_close_date and opportunity.expected_close_date < today)


@register.filter
def required_field_label(name: str) -> str:
    """The label of a field a stage requires before a deal leaves it (amount, contact …)."""
    from stages.models import Stage

    return str(Stage.REQUIRED_FIELD_CHOICES.get(name, name))


@register.filter
def status_label(value: str) -> str:
    from opportunities.models import Opportunity

    try:
        return str(Opportunity.Status(value).label)
    except ValueError:
        return value
