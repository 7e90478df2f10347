"""Filter backends shared by every API list."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.filters import OrderingFilter


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` limited to the view's explicit ``ordering_fields``, with the primary key as
    the last tie-breaker so that pages never repeat or skip rows that sort equal."""

    def get_valid_fields(self, queryset, view, context=None):
        if getattr(view, "ordering_fields", None) in (None, "__all__"):
            raise ImproperlyConfigured(f"{view.__class__.__name__} must list its ordering_fields explicitly.")
        return super().get_valid_fields(queryset, view, context or {})

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
