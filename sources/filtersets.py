"""Filters of the lead-source list (API and pages alike)."""

import django_filters

from sources.models import LeadSource


class LeadSourceFilterSet(django_filters.FilterSet):
    class Meta:
        model = LeadSource
        fields = ["channel", "is_active"]
