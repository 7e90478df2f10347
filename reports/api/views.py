"""/api/reports/…: the same selectors and filters as the pages, as JSON
``{"start", "end", "rows": [...], "totals": {...}}`` (the sources report adds ``channels``,
the funnel ``pipeline``). Ids are numbers; money, ratios and days are decimal strings."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.catalog import REPORTS
from reports.formatting import api_payload
from reports.views import run_report

PARAMETERS = {
    "start": OpenApiParameter(
        "start", OpenApiTypes.DATE, description="First day (company time zone); default: this month"
    ),
    "end": OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive"),
    "team": OpenApiParameter("team", OpenApiTypes.INT, description="A team you manage"),
    "channel": OpenApiParameter("channel", OpenApiTypes.STR, description="Lead-source channel"),
    "pipeline": OpenApiParameter("pipeline", OpenApiTypes.INT, description="Pipeline id"),
}


class ReportAPIView(APIView):
    slug: str = ""

    def get(self, request, *args, **kwargs):
        form, report = run_report(REPORTS[self.slug], viewer=request.user, params=request.query_params)
        if report is None:
            return Response({"errors": form.errors.get_json_data()}, status=400)
        return Response(api_payload(report))


def _view(slug: str) -> type[ReportAPIView]:
    """One APIView class per report, so each has its own operation in the OpenAPI schema."""
    spec = REPORTS[slug]

    @extend_schema(
        operation_id=f"reports_{slug}",
        summary=str(spec.title),
        description=str(spec.description),
        parameters=[PARAMETERS[name] for name in spec.filters],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, *args, **kwargs):
        return ReportAPIView.get(self, request, *args, **kwargs)

    return type(f"{slug.title()}ReportAPIView", (ReportAPIView,), {"slug": slug, "get": get, "__module__": __name__})


VIEWS = {slug: _view(slug) for slug in REPORTS}
