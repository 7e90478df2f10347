"""Report pages and their exports. Every request reads the same filter form and the same
selector; the page, the CSV and the XLSX differ only in how the numbers are written."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reports.catalog import REPORTS, ReportSpec, decorate, extra_columns
from reports.exports import csv_response, xlsx_response
from reports.formatting import total_row
from reports.forms import ReportFilterForm
from reports.selectors import Report

EXPORTERS = {"csv": csv_response, "xlsx": xlsx_response}


def run_report(spec: ReportSpec, *, viewer, params) -> tuple[ReportFilterForm, Report | None]:
    """Validate the filters and run the report; (form, None) when the filters are invalid."""
    form = ReportFilterForm(params, user=viewer, fields=spec.filters, one_pipeline=spec.one_pipeline)
    if not form.is_valid():
        return form, None
    data = {**form.cleaned_data, "period": form.period}
    return form, decorate(spec, spec.run(viewer=viewer, data=data))


@require_GET
@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"reports": REPORTS.values()})


@require_GET
@login_required
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    spec = REPORTS[slug]
    form, report = run_report(spec, viewer=request.user, params=request.GET)
    context = {"spec": spec, "form": form, "report": report, "query": request.GET.urlencode()}
    if report is not None:
        context["total"] = total_row(spec, spec.columns, report.totals, "")
        context["extra_tables"] = [
            (title, extra_columns(spec, key), report.extra.get(key, [])) for key, title, _cols in spec.extra_tables
        ]
        context["chart"] = spec.chart(report) if spec.chart else None
    return render(request, f"reports/{slug}.html", context, status=200 if report is not None else 400)


@require_GET
@login_required
def report_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in EXPORTERS:
        raise Http404
    spec = REPORTS[slug]
    form, report = run_report(spec, viewer=request.user, params=request.GET)
    if report is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    return EXPORTERS[fmt](spec, report)
