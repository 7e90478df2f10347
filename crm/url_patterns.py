"""URLs of one object each, for HTML written in Python: reversed once per response, not once
per row (``reverse`` resolves the whole URL configuration on each call)."""

from collections.abc import Callable

from django.urls import NoReverseMatch, reverse

_PK = 2147483647  # a pk that appears nowhere else in a URL


def url_for_pk(name: str) -> Callable[[int], str] | None:
    """``reverse(name, args=[pk])`` as a function of an int pk, reversed once: the pattern's
    other parts do not depend on the pk. None while the URL is not installed."""
    try:
        prefix, _pk, suffix = reverse(name, args=[_PK]).partition(str(_PK))
    except NoReverseMatch:
        return None
    return lambda pk: f"{prefix}{pk}{suffix}"
