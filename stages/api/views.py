from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from crm.api_docs import DETAIL_ERRORS, LIST_ERRORS
from stages.api.serializers import PipelineSerializer
from stages.filtersets import PipelineFilterSet
from stages.models import Pipeline, Stage


@extend_schema_view(
    list=extend_schema(
        summary=_("Pipelines with their ordered stages"),
        description=_("Company configuration, the same for everyone."),
        responses={200: PipelineSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary=_("Pipeline"), responses={200: PipelineSerializer, **DETAIL_ERRORS}),
)
class PipelineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PipelineSerializer
    filterset_class = PipelineFilterSet
    search_fields = ["name"]
    ordering_fields = ["order", "name", "id"]
    ordering = ["order", "name"]

    def get_queryset(self):
        # Company configuration: every signed-in user reads all of it.
        return Pipeline.objects.prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("order", "id")))
