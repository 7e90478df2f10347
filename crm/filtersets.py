"""Filters shared by the FilterSets of every app (pages and API alike)."""

import django_filters
from django import forms

# The largest id the databases store (a signed 64-bit integer). A bigger one cannot exist, and
# some backends fail on it in a join rather than finding nothing.
ID_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A whole-number id (NumberFilter alone would accept 1.5 and quietly round it)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)
