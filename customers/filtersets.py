"""Filters of customer and contact lists (API and pages alike)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filtersets import IdFilter
from customers.models import Contact, Customer


class CustomerFilterSet(django_filters.FilterSet):
    country = django_filters.CharFilter(lookup_expr="iexact", label=_("Country (exact, any case)"))
    industry = django_filters.CharFilter(lookup_expr="icontains", label=_("Industry contains"))

    class Meta:
        model = Customer
        fields = ["country", "industry"]


class ContactFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer", label=_("Customer id"))

    class Meta:
        model = Contact
        fields = ["customer"]
