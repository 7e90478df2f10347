"""Filter backends shared by every API list."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter, SearchFilter


class OnceFilterBackend(DjangoFilterBackend):
    """django-filter's backend, with the request's FilterSet built and validated once per view:
    a list read branch by branch of the visibility rule filters every branch with the same
    FilterSet (``FilterSet.filter_queryset``) instead of parsing the query string again."""

    def filter_queryset(self, request, queryset, view):
        filterset = getattr(view, "_once_filterset", None)
        if filterset is None:
            filterset = self.get_filterset(request, queryset, view)
            if filterset is None:
                return queryset
            if not filterset.is_valid() and self.raise_exception:
                raise utils.translate_validation(filterset.errors)
            view._once_filterset = filterset
        return filterset.filter_queryset(queryset) if filterset.is_bound else queryset


class DescribedSearchFilter(SearchFilter):
    """``?search=`` whose OpenAPI description names the fields it looks in."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = ", ".join(field.lstrip("^=@$").replace("__", ".") for field in getattr(view, "search_fields", []))
        for parameter in parameters:
            parameter["description"] = format_lazy(_("Words to look for (any case) in: {fields}."), fields=fields)
        return parameters


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` limited to the view's explicit ``ordering_fields``, with the primary key as
    the last tie-breaker so that pages never repeat or skip rows that sort equal."""

    def get_valid_fields(self, queryset, view, context=None):
        if getattr(view, "ordering_fields", None) in (None, "__all__"):
            raise ImproperlyConfigured(f"{view.__class__.__name__} must list its ordering_fields explicitly.")
        return super().get_valid_fields(queryset, view, context or {})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = ", ".join(field for field in view.ordering_fields)
        default = ",".join(getattr(view, "ordering", None) or [])
        for parameter in parameters:
            parameter["description"] = format_lazy(
                _(
                    "Sort by one or more of {fields}, comma-separated; prefix a field with - for descending. "
                    "Default: {default}."
                ),
                fields=fields,
                default=default,
            )
        return parameters

    def get_ordering(self, request, queryset, view):
        ordering = list(
            super().get_ordering(request, queryset, view)
            or queryset.query.order_by
            or queryset.model._meta.ordering
            or []
        )
        if not any(term.lstrip("-") in ("pk", "id") for term in ordering):
            ordering.append("pk")
        return ordering
