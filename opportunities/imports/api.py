"""``/api/imports/``: upload-and-start, progress, and the rows not imported.

POST takes multipart form data (``file``, ``source``, ``pipeline``, ``stage``,
``expected_close_date`` or ``close_in_days``, ``currency``, ``assign``, ``owner``, ``reps``,
``team``, ``duplicates``, optional ``mapping`` as JSON {header or column number: field}) and
answers 202 with the job; the worker imports it. Reps get 403; another team's job is a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import get_error_detail
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from opportunities.imports.mapping import header_label
from opportunities.imports.models import ImportJob, ImportRowError
from opportunities.imports.selectors import (
    import_job_rejected_csv,
    import_job_row_errors,
    import_jobs_visible_to,
    rejected_csv_name,
)
from opportunities.imports.services import import_job_summary, import_leads, user_can_import
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.models import Team, User


class CanImport(permissions.BasePermission):
    message = _("Only sales managers can import leads.")

    def has_permission(self, request, view) -> bool:
        return user_can_import(request.user)


class ImportJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    source = serializers.PrimaryKeyRelatedField(queryset=LeadSource.objects.all())
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all())
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), required=False, allow_null=True)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    close_in_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3650)
    currency = serializers.CharField(required=False, max_length=3, default="CNY")
    assign = serializers.ChoiceField(choices=ImportJob.Assign.choices, default=ImportJob.Assign.POOL)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    reps = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)
    duplicates = serializers.ChoiceField(choices=ImportJob.Duplicates.choices, default=ImportJob.Duplicates.SKIP)
    mapping = serializers.JSONField(required=False, binary=True, help_text="{header or column number: field}")

    def validate_mapping(self, value):
        if not isinstance(value, dict) or not all(isinstance(field, str) for field in value.values()):
            raise serializers.ValidationError(_("Give an object: {column header or number: field name}."))
        return value

    def validate(self, attrs):
        if attrs.get("expected_close_date") is None and attrs.get("close_in_days") is None:
            attrs["close_in_days"] = 90
        return attrs


class ImportJobSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    summary = serializers.SerializerMethodField()
    mapping = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "status",
            "status_display",
            "percent",
            "total",
            "processed",
            "created",
            "skipped",
            "failed",
            "customers_created",
            "contacts_created",
            "error",
            "summary",
            "original_name",
            "file_format",
            "encoding",
            "delimiter",
            "header_row",
            "headers",
            "mapping",
            "team",
            "source",
            "pipeline",
            "stage",
            "expected_close_date",
            "currency",
            "assign",
            "owner",
            "duplicates",
            "created_by",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
            "errors_url",
        ]
        read_only_fields = fields

    def get_summary(self, job) -> str:
        return import_job_summary(job)

    def get_mapping(self, job) -> dict[str, str]:
        """{header: field}, as a person reads it."""
        return {header_label(job.headers, int(index)): field for index, field in job.mapping.items()}

    def get_url(self, job) -> str:
        return reverse("imports-api:job-detail", args=[job.pk], request=self.context.get("request"))

    def get_errors_url(self, job) -> str:
        return reverse("imports-api:job-errors", args=[job.pk], request=self.context.get("request"))


class ImportRowErrorSerializer(serializers.ModelSerializer):
    row = serializers.IntegerField(source="row_number")
    values = serializers.SerializerMethodField()

    class Meta:
        model = ImportRowError
        fields = ["row", "kind", "reason", "values"]

    def get_values(self, row) -> dict[str, str]:
        headers = self.context["headers"]
        return {header_label(headers, index): value for index, value in enumerate(row.values) if value}


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class RowErrorPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ImportJobViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    permission_classes = [permissions.IsAuthenticated, CanImport]
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]
    ordering_fields = ["created_at", "status"]
    ordering = ["-created_at"]
    search_fields = ["original_name"]

    def get_queryset(self):
        return import_jobs_visible_to(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = ImportJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = import_leads(by=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from exc
        body = ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def errors(self, request, pk=None):
        """The rows not imported (``?kind=failed`` or ``skipped``); ``?format=csv`` gives the
        file of rejected rows in the original columns, ready to fix and re-import."""
        job = self.get_object()
        kind = request.query_params.get("kind")
        kind = kind if kind in ImportRowError.Kind.values else None
        if request.accepted_renderer.format == "csv":
            response = StreamingHttpResponse(import_job_rejected_csv(job=job, kind=kind), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{rejected_csv_name(job)}"'
            return response
        rows = import_job_row_errors(job=job, kind=kind)
        paginator = RowErrorPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        serializer = ImportRowErrorSerializer(page, many=True, context={"headers": job.headers})
        return paginator.get_paginated_response(serializer.data)
