"""``/api/imports/``: upload-and-start, progress, and the rows not imported.

POST takes multipart form data (``file``, ``source``, ``pipeline``, ``stage``,
``expected_close_date`` or ``close_in_days``, ``currency``, ``assign``, ``owner``, ``reps``,
``team``, ``duplicates``, optional ``mapping`` as JSON {header or column number: field}) and
answers 202 with the job; the worker imports it. Reps get 403; another team's job is a 404.
The service's errors are answered by the API's shared handler (crm/api_errors.py): a
``ValidationError`` is a field-by-field 400, a ``PermissionDenied`` a 403.
"""

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from crm.api_docs import DETAIL_ERRORS, ERROR_400, LIST_ERRORS, READ_ERRORS
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


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class MappingField(serializers.JSONField):
    """A JSON object in a form field (multipart sends it as its JSON text)."""


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
    mapping = MappingField(
        required=False,
        binary=True,
        help_text=_(
            "Corrections of the recognised columns: {column header or number (from 0): field}; an empty field "
            "leaves the column out."
        ),
    )

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
    headers = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=_("The header row."))
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


class RowErrorQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ImportRowError.Kind.choices,
        required=False,
        help_text=_("Only the rows rejected (`failed`) or skipped as duplicates (`skipped`); default both."),
    )


class CSVRenderer(BaseRenderer):
    """The rejected rows as a file; the view streams it, so this renders nothing itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


@extend_schema_view(
    list=extend_schema(
        summary=_("Lead imports you can see (managers)"),
        description=_(
            "The imports of the teams you manage and those you started (all for an admin), newest first. "
            "Reps get 403. `search` looks in the file name."
        ),
        responses={200: ImportJobSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary=_("An import: its status and progress"),
        description=_(
            "Poll it while the worker imports: `processed` of `total` rows, `percent`, and the counts of "
            "`created`, `skipped` (duplicates) and `failed` rows; `summary` says it in words when done."
        ),
        responses={200: ImportJobSerializer, **DETAIL_ERRORS},
    ),
    create=extend_schema(
        summary=_("Upload a file of leads and start importing it (managers)"),
        description=_(
            "multipart/form-data with the `file` (CSV in UTF-8, GB18030/GBK or UTF-16, or XLSX) and the "
            "options of the upload page. The recognised headers give the mapping; correct it with `mapping`, "
            "a JSON object {column header or number: field}, which must include the company. The file is "
            "checked and the job queued at once: the answer is 202 with the job (its URL also in `Location`); "
            "the worker imports the rows. A file that cannot be read, or bad options, is a 400 and nothing is "
            "stored."
        ),
        request={"multipart/form-data": ImportJobCreateSerializer},
        responses={202: ImportJobSerializer, 400: ERROR_400, **READ_ERRORS},
    ),
)
class ImportJobViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    permission_classes = [permissions.IsAuthenticated, CanImport]
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser]
    ordering_fields = ["created_at", "status"]
    ordering = ["-created_at"]
    search_fields = ["original_name"]

    def get_queryset(self):
        return import_jobs_visible_to(user=self.request.user)

    def handle_exception(self, exc):
        # An error is JSON even where the answer would have been the CSV file.
        if isinstance(getattr(self.request, "accepted_renderer", None), CSVRenderer):
            self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    def create(self, request, *args, **kwargs):
        data = ImportJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The service's ValidationError / PermissionDenied go to the shared handler (400 / 403).
        job = import_leads(by=request.user, **data.validated_data)
        body = ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        summary=_("The rows not imported"),
        description=_(
            "Each row rejected (`failed`, with the reason) or skipped as a duplicate (`skipped`), in file "
            "order, with its values keyed by the file's headers. `?format=csv` (or `Accept: text/csv`) "
            "answers the file of these rows instead: the original columns plus the result and the reason, "
            "UTF-8 with a byte-order mark, ready to fix and import again."
        ),
        parameters=[
            RowErrorQuerySerializer,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv"],
                description=_("`csv`: the file of the rows, not paginated. Default `json`."),
            ),
        ],
        responses={
            (200, "application/json"): ImportRowErrorSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=_("The rows as a CSV file.")),
            # Errors are JSON, also when the CSV file was asked for (see handle_exception).
            **{(code, "application/json"): response for code, response in LIST_ERRORS.items()},
        },
    )
    # No search or ordering here: they are the list's, and would only hide the job (a 404).
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer], filter_backends=[])
    def errors(self, request, pk=None):
        job = self.get_object()
        query = RowErrorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data.get("kind")
        if isinstance(request.accepted_renderer, CSVRenderer):
            response = StreamingHttpResponse(import_job_rejected_csv(job=job, kind=kind), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{rejected_csv_name(job)}"'
            return response
        page = self.paginate_queryset(import_job_row_errors(job=job, kind=kind))
        serializer = ImportRowErrorSerializer(page, many=True, context={"headers": job.headers})
        return self.get_paginated_response(serializer.data)
