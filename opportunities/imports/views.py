"""Import pages for managers: upload → mapping and preview → progress → summary.

Reps get 403 (importing is a manager's job); another team's import is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from opportunities.imports.forms import ImportMappingForm, ImportUploadForm
from opportunities.imports.mapping import FIELDS
from opportunities.imports.models import ImportJob
from opportunities.imports.selectors import (
    import_job_get_for_user,
    import_job_rejected_csv,
    import_jobs_visible_to,
    rejected_csv_name,
)
from opportunities.imports.services import (
    import_job_create,
    import_job_set_mapping,
    import_job_start,
    import_job_summary,
    user_can_import,
)


def _require_importer(request: HttpRequest) -> None:
    if not user_can_import(request.user):
        raise PermissionDenied(_("Only sales managers can import leads."))


def _job_for(request: HttpRequest, pk: int) -> ImportJob:
    _require_importer(request)
    try:
        return import_job_get_for_user(user=request.user, pk=pk)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_GET
@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    jobs = import_jobs_visible_to(user=request.user)[:50]
    return render(request, "opportunities/imports/import_list.html", {"jobs": jobs})


@require_http_methods(["GET", "POST"])
@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = import_job_create(
                by=request.user,
                file=data["file"],
                source=data["source"],
                pipeline=data["pipeline"],
                stage=data["stage"],
                team=data["team"],
                expected_close_date=data["expected_close_date"],
                close_in_days=data["close_in_days"],
                currency=data["currency"],
                assign=data["assign"],
                owner=data["owner"],
                reps=list(data["reps"]),
                duplicates=data["duplicates"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("opportunities:imports:detail", pk=job.pk)
    return render(request, "opportunities/imports/import_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    form = None
    if job.status == ImportJob.Status.DRAFT:
        form = ImportMappingForm(request.POST or None, job=job)
        if request.method == "POST" and form.is_valid():
            try:
                if request.POST.get("action") == "start" and job.preview.get("counts"):
                    import_job_start(job=job, by=request.user, duplicates=form.cleaned_data["duplicates"])
                    messages.success(request, _("The import has started."))
                else:
                    import_job_set_mapping(
                        job=job,
                        by=request.user,
                        mapping=form.mapping(),
                        duplicates=form.cleaned_data["duplicates"],
                        save_as=form.cleaned_data["save_as"],
                        share_with_team=form.cleaned_data["share_with_team"],
                    )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect("opportunities:imports:detail", pk=job.pk)
    elif request.method == "POST":
        return redirect("opportunities:imports:detail", pk=job.pk)
    context = {"job": job, "form": form, "summary": import_job_summary(job), "fields": FIELDS}
    return render(request, "opportunities/imports/import_detail.html", context)


@require_GET
@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar, polled by htmx while the preview or the import runs (it stops polling
    when done); a finished preview reloads the page, which then shows it."""
    job = _job_for(request, pk)
    if job.status == ImportJob.Status.DRAFT:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("opportunities:imports:detail", args=[job.pk])
        return response
    context = {"job": job, "summary": import_job_summary(job)}
    return render(request, "opportunities/imports/partials/import_progress.html", context)


@require_GET
@login_required
def import_rejected(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = _job_for(request, pk)
    kind = request.GET.get("kind") if request.GET.get("kind") in ("failed", "skipped") else None
    response = StreamingHttpResponse(
        import_job_rejected_csv(job=job, kind=kind), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{rejected_csv_name(job)}"'
    return response
