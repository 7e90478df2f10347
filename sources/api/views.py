from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from crm.api_docs import DETAIL_ERRORS, LIST_ERRORS
from sources.api.serializers import LeadSourceSerializer
from sources.filtersets import LeadSourceFilterSet
from sources.models import LeadSource


@extend_schema_view(
    list=extend_schema(
        summary=_("Lead sources and their costs"),
        description=_("Company configuration, the same for everyone."),
        responses={200: LeadSourceSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary=_("Lead source"), responses={200: LeadSourceSerializer, **DETAIL_ERRORS}),
)
class LeadSourceViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LeadSourceSerializer
    filterset_class = LeadSourceFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "start_date", "id"]
    ordering = ["-start_date", "name"]

    def get_queryset(self):
        # Company configuration: every signed-in user reads all of it.
        return LeadSource.objects.all()
