"""Opportunity pages: the list (filters, search, sort, pages, exports, managers' bulk actions),
the quick create form, and attachment downloads. Each view parses its input, calls a selector
or a service, and renders; the board and the opportunity page live in views_board.py and
views_detail.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.page_cache import page_cached
from customers.selectors import customers_recent
from opportunities.exports import (
    OPPORTUNITY_COLUMNS,
    opportunity_csv_lines,
    opportunity_export_filename,
    opportunity_xlsx_file,
)
from opportunities.filter_bar import filters_open, opportunity_filter_bar
from opportunities.forms_create import OpportunityCreateForm
from opportunities.forms_list import OpportunityBulkForm, opportunity_filter_people, opportunity_list_people
from opportunities.list_table import opportunity_list_headers, opportunity_list_rows
from opportunities.models import Attachment
from opportunities.pagination import BoundedPaginator
from opportunities.selectors import (
    OpportunityListing,
    attachments_visible_to,
    opportunities_visible_to,
    opportunity_filter_choices,
)
from opportunities.services import (
    opportunity_assign,
    opportunity_distribute,
    opportunity_quick_create,
    opportunity_set_difficulty_many,
)
from stages.models import Stage
from teams.selectors import teams_managed_by, teams_visible_to_by_name, user_is_manager
from teams.visibility import user_manages_team

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page_size(request: HttpRequest) -> int:
    raw = request.GET.get("per_page", "")
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else DEFAULT_PAGE_SIZE


@require_GET
@page_cached
@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """Filters, search and sort all live in the query string, so any view of the list can be
    bookmarked. htmx asks for the results only; without JS the whole page comes back."""
    is_manager = user_is_manager(user=request.user)
    listing = OpportunityListing(user=request.user, data=request.GET)
    paginator = BoundedPaginator(listing.rows, _page_size(request), count_up_to=listing.rows.count_up_to)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "listing": listing,
        "page": page,
        "columns": OPPORTUNITY_COLUMNS,
        "headers": opportunity_list_headers(
            OPPORTUNITY_COLUMNS, query=request.GET, sort=listing.sort, list_url=reverse("opportunities:list")
        ),
        "rows": opportunity_list_rows(page.object_list, selectable=is_manager, today=listing.today),
        "is_manager": is_manager,
        "page_sizes": PAGE_SIZES,
    }
    people = opportunity_list_people(user=request.user) if is_manager else None
    partial = request.htmx and not request.htmx.boosted
    # The filter's teams, and the bulk form's (those the user manages): read once for both.
    teams = teams_visible_to_by_name(user=request.user) if is_manager or not partial else []
    if is_manager:
        context["bulk_form"] = OpportunityBulkForm(
            user=request.user,
            visible=opportunities_visible_to(user=request.user),
            people=people,
            teams=[team for team in teams if user_manages_team(request.user, team.pk)],
        )
    if partial:
        return render(request, "opportunities/partials/opportunity_results.html", context)
    stages, sources = opportunity_filter_choices()
    context["filter_fields"] = opportunity_filter_bar(
        listing.filterset,
        stages=stages,
        sources=sources,
        teams=[(team.pk, team.name) for team in teams],
        people=None if people is None else opportunity_filter_people(people),
    )
    context["filters_open"] = filters_open(listing.filterset)
    return render(request, "opportunities/opportunity_list.html", context)


@require_GET
@login_required
def opportunity_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The list as it is filtered, searched and sorted — every page of it — as CSV or XLSX."""
    listing = OpportunityListing(user=request.user, data=request.GET)
    if fmt == "csv":
        response = StreamingHttpResponse(
            opportunity_csv_lines(listing.queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{opportunity_export_filename("csv")}"'
        return response
    if fmt == "xlsx":
        return FileResponse(
            opportunity_xlsx_file(listing.queryset),
            as_attachment=True,
            filename=opportunity_export_filename("xlsx"),
            content_type=XLSX,
        )
    raise Http404


def _back_to_list(request: HttpRequest) -> str:
    """Where a bulk action returns: the list as the user left it (filters and page kept)."""
    target = request.POST.get("next", "")
    list_url = reverse("opportunities:list")
    if target.startswith(list_url) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return list_url


def _name(user) -> str:
    return user.get_full_name() or user.username


def _bulk_assign(data: dict, by, form: OpportunityBulkForm) -> str:
    count = opportunity_assign(opportunity_ids=data["ids"], owner=data["owner"], by=by, reason=data["reason"])
    if data["owner"] is None:
        text = ngettext(
            "%(count)d opportunity moved to the unassigned pool.",
            "%(count)d opportunities moved to the unassigned pool.",
            count,
        )
        return text % {"count": count}
    text = ngettext(
        "%(count)d opportunity assigned to %(name)s.", "%(count)d opportunities assigned to %(name)s.", count
    )
    return text % {"count": count, "name": _name(data["owner"])}


def _bulk_distribute(data: dict, by, form: OpportunityBulkForm) -> str:
    given = opportunity_distribute(
        opportunity_ids=data["ids"], team=data["team"], strategy=data["strategy"], by=by, reason=data["reason"]
    )
    names = {pk: _name(member) for pk, member in form.assignable.items()}
    shares = ", ".join(f"{names.get(pk, pk)} {count}" for pk, count in sorted(given.items(), key=lambda kv: -kv[1]))
    total = sum(given.values())
    text = ngettext(
        "%(count)d opportunity distributed across %(team)s: %(shares)s.",
        "%(count)d opportunities distributed across %(team)s: %(shares)s.",
        total,
    )
    return text % {"count": total, "team": data["team"].name, "shares": shares}


def _bulk_difficulty(data: dict, by, form: OpportunityBulkForm) -> str:
    count = opportunity_set_difficulty_many(
        opportunity_ids=data["ids"], difficulty=data["difficulty"], by=by, reason=data["reason"]
    )
    text = ngettext(
        "Difficulty set to %(value)s on %(count)d opportunity.",
        "Difficulty set to %(value)s on %(count)d opportunities.",
        count,
    )
    return text % {"count": count, "value": data["difficulty"]}


BULK_ACTIONS = {"assign": _bulk_assign, "distribute": _bulk_distribute, "difficulty": _bulk_difficulty}


@require_POST
@login_required
def opportunity_bulk(request: HttpRequest) -> HttpResponse:
    """A manager's action on the selected rows — assign to one rep (or the pool), distribute
    across a team, set the difficulty — through the services; then back to the list as it was,
    with what happened (or why nothing did) as a message. Reps get 403."""
    if not user_is_manager(user=request.user):
        raise PermissionDenied(_("Only sales managers can change several opportunities at once."))
    form = OpportunityBulkForm(request.POST, user=request.user, visible=opportunities_visible_to(user=request.user))
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(_back_to_list(request))
    try:
        text = BULK_ACTIONS[form.cleaned_data["action"]](form.cleaned_data, request.user, form)
    except (ValidationError, PermissionDenied) as exc:
        for error in getattr(exc, "messages", None) or [str(exc)]:
            messages.error(request, error)
    else:
        messages.success(request, text)
    return redirect(_back_to_list(request))


def _detail_or_list(opportunity) -> str:
    """The new deal's page (opportunities:detail), or the list while that page is not installed."""
    try:
        return reverse("opportunities:detail", args=[opportunity.pk])
    except NoReverseMatch:
        return reverse("opportunities:list")


@require_http_methods(["GET", "POST"])
@login_required
def opportunity_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = OpportunityCreateForm(
        request.POST or None,
        initial={"customer": request.GET.get("customer", "")[:250]},  # from a customer's page
        user=user,
        manager_teams=list(teams_managed_by(user=user)),
        member_teams=list(user.teams.all()),
    )
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = opportunity_quick_create(by=user, **form.service_arguments())
        except ValidationError as exc:
            form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Opportunity “%(title)s” created.") % {"title": opportunity.title})
            return redirect(_detail_or_list(opportunity))
    context = {"form": form, "recent_customers": customers_recent(user=user)}
    return render(request, "opportunities/opportunity_create.html", context)


@require_GET
@login_required
def stage_options(request: HttpRequest) -> HttpResponse:
    """The open stages of one pipeline, as <option>s for the create form (htmx)."""
    pipeline = request.GET.get("pipeline", "")
    stages = (
        Stage.objects.filter(pipeline_id=int(pipeline), kind=Stage.Kind.OPEN, pipeline__is_active=True).order_by(
            "order", "pk"
        )
        if pipeline.isdigit()
        else Stage.objects.none()
    )
    return render(request, "opportunities/partials/stage_options.html", {"stages": stages})


@require_GET
@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Files are only ever served through the visibility selector: another rep's file is a 404."""
    try:
        attachment = attachments_visible_to(user=request.user).get(pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.is_image,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
