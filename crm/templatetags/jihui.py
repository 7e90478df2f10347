"""Display filters shared by the pages: money, people, links that may not exist yet; the main
menu."""

import functools
from decimal import Decimal, InvalidOperation

from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
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


@register.simple_tag(takes_context=True)
def main_nav(context) -> SafeString:
    """The signed-in user's main menu (templates/crm/main_nav.html). It depends on the language,
    the site's script prefix, two flags of the user's role and which page this is, nothing else:
    rendered once per combination of those and kept per process (every page shows it, and its
    eleven links and translations cost the template engine about a millisecond each time)."""
    user, match = context["user"], getattr(context.get("request"), "resolver_match", None)
    url_name = (match.url_name if match else "") or ""
    view_name = (match.view_name if match else "") or ""
    # The namespace, else the URL's name: a section of the site (reports, teams …).
    section = ((match.namespace or match.url_name) if match else "") or ""
    return _main_nav(
        get_language(),
        get_script_prefix(),
        bool(getattr(user, "manages_teams", False) or user.is_staff),
        bool(user.is_staff),
        url_name,
        view_name,
        section,
    )


@functools.lru_cache(maxsize=1024)
def _main_nav(
    language: str,
    script_prefix: str,
    manages_or_staff: bool,
    is_staff: bool,
    url_name: str,
    view_name: str,
    section: str,
) -> SafeString:
    # Rendered in the language and under the script prefix of its key: the request's own.
    context = {
        "manages_or_staff": manages_or_staff,
        "is_staff": is_staff,
        "url_name": url_name,
        "view_name": view_name,
        "section": section,
    }
    return mark_safe(render_to_string("crm/main_nav.html", context))  # noqa: S308 (the template engine's output)
