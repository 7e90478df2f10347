"""/api/reports/…: the same selectors and filters as the pages, as JSON
``{"start", "end", "rows": [...], "totals": {...}}`` (the sources report adds ``channels``,
the funnel ``pipeline``). Ids are numbers; money, ratios and days are decimal strings.

The query parameters are parsed by a serializer (types, ranges: a 400 names the parameter),
then by the report's filter form, as on the page (which teams the caller manages, which
pipelines are active). Both kinds of error reach the caller through the shared exception
handler (crm/api_errors.py) as ``{"<parameter>": ["message", …]}``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api_docs import ERROR_400, READ_ERRORS
from reports.api.serializers import ANSWERS, ReportFiltersSerializer, filters_serializer
from reports.catalog import REPORTS
from reports.formatting import api_payload
from reports.views import run_report


class ReportAPIView(APIView):
    slug: str = ""
    filters_class: type[ReportFiltersSerializer] = ReportFiltersSerializer

    def get(self, request, *args, **kwargs):
        filters = self.filters_class(data=request.query_params)
        filters.is_valid(raise_exception=True)
        form, report = run_report(REPORTS[self.slug], viewer=request.user, params=filters.as_form_data())
        if report is None:
            raise DjangoValidationError(form.errors.as_data())
        return Response(api_payload(report))


def _view(slug: str) -> type[ReportAPIView]:
    """One APIView class per report, so each has its own operation in the OpenAPI schema."""
    spec = REPORTS[slug]
    filters_class = filters_serializer(slug, spec.filters)

    @extend_schema(
        operation_id=f"reports_{slug}",
        summary=spec.title,
        description=spec.description,
        parameters=[filters_class],
        responses={200: ANSWERS[slug], 400: ERROR_400, **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return ReportAPIView.get(self, request, *args, **kwargs)

    attrs = {"slug": slug, "filters_class": filters_class, "get": get, "__module__": __name__}
    return type(f"{slug.title()}ReportAPIView", (ReportAPIView,), attrs)


VIEWS = {slug: _view(slug) for slug in REPORTS}
