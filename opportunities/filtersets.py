"""Filters of the opportunity, activity and lost-reason lists, shared by the API and the pages.

They only narrow a queryset that already went through the visibility selector, so an id the
caller cannot see simply matches nothing: never an error that would tell it exists.
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.api_filters import DescribedSearchFilter
from crm.filtersets import IdFilter
from opportunities.models import Activity, LostReason, Opportunity
from opportunities.selectors import opportunity_search_terms_q, opportunity_stale_q


class OpportunityFilterSet(django_filters.FilterSet):
    owner = IdFilter(field_name="owner", label=_("Owner (user id)"))
    unassigned = django_filters.BooleanFilter(
        field_name="owner", lookup_expr="isnull", label=_("In a team's unassigned pool (true) or owned (false)")
    )
    team = IdFilter(field_name="team", label=_("Team id"))
    pipeline = IdFilter(field_name="pipeline", label=_("Pipeline id"))
    stage = IdFilter(field_name="stage", label=_("Stage id"))
    source = IdFilter(field_name="source", label=_("Lead source id"))
    customer = IdFilter(field_name="customer", label=_("Customer id"))
    status = django_filters.ChoiceFilter(choices=Opportunity.Status.choices, label=_("Status"))
    expected_close_date_after = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="gte", label=_("Expected close date on or after (YYYY-MM-DD)")
    )
    expected_close_date_before = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="lte", label=_("Expected close date on or before (YYYY-MM-DD)")
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount_base", lookup_expr="gte", label=_("Amount in CNY (the base currency) at least")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount_base", lookup_expr="lte", label=_("Amount in CNY (the base currency) at most")
    )
    stale = django_filters.BooleanFilter(
        method="filter_stale",
        label=_("Open deals idle longer than their stage's idle limit (rotting days), in company time"),
    )

    class Meta:
        model = Opportunity
        fields = [
            "owner",
            "unassigned",
            "team",
            "pipeline",
            "stage",
            "source",
            "customer",
            "status",
            "expected_close_date_after",
            "expected_close_date_before",
            "amount_min",
            "amount_max",
            "stale",
        ]

    def filter_stale(self, queryset, name, value):
        # One reading of the idle limits per request, however many querysets this filters (the
        # API filters each branch of the visibility rule).
        condition = getattr(self.request, "_opportunity_stale_q", None)
        if condition is None:
            condition = opportunity_stale_q()
            if self.request is not None:
                self.request._opportunity_stale_q = condition
        return queryset.filter(condition) if value else queryset.exclude(condition)


class OpportunitySearchFilter(DescribedSearchFilter):
    """The API's ``?search=``: its words as DRF splits them (quoted phrases, commas), each looked
    for in the title, the customer's name and the contact's name the list page's way
    (``opportunity_search_terms_q``), which PostgreSQL's trigram index serves."""

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        if not terms or not self.get_search_fields(view, request):
            return queryset
        return queryset.filter(opportunity_search_terms_q(terms))


class ActivityFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices, label=_("Kind"))
    stage = IdFilter(field_name="stage", label=_("Stage id (the stage the deal was in)"))

    class Meta:
        model = Activity
        fields = ["kind", "stage"]


class LostReasonFilterSet(django_filters.FilterSet):
    class Meta:
        model = LostReason
        fields = ["is_active"]
