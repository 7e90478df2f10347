"""The opportunity page: key fields, stage path, the whole history, and the forms that change it.

Each form posts to its own URL, which parses the input, calls one service and redirects back
(post/redirect/get). A refused change shows the page again with the form as it was typed and
the service's message next to the field; a stale version (someone else saved meanwhile) answers
409 with what changed, keeping the input. Stage moves go through ``views_board.opportunity_move``,
the same endpoint the board uses.
"""

import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.dates import company_today
from crm.exceptions import ConflictError
from opportunities.forms import (
    ActivityForm,
    CloseForm,
    OpportunityEditForm,
    PushDateForm,
    ReopenForm,
    edit_changes_meanwhile,
)
from opportunities.forms_admin import add_service_errors
from opportunities.models import Opportunity
from opportunities.selectors import (
    opportunity_is_stale,
    opportunity_unmet_exit_criteria,
)
from opportunities.selectors_detail import opportunity_get_for_page, opportunity_page_stages
from opportunities.selectors_timeline import TimelineCursor, opportunity_timeline_page
from opportunities.services import (
    opportunity_add_activity,
    opportunity_assign,
    opportunity_close,
    opportunity_push_close_date,
    opportunity_reopen,
    opportunity_update,
)
from opportunities.timeline_html import timeline_for_page
from stages.models import Stage
from teams.visibility import can_manage_opportunity

SERVICE_ERRORS = (ValidationError, PermissionDenied, ConflictError)


def _opportunity_or_404(request: HttpRequest, pk: int) -> Opportunity:
    try:
        return opportunity_get_for_page(user=request.user, pk=pk)
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc


# The forms behind a button: rendered when opened (htmx, or ``?form=<name>`` without JS), so the
# page does not build selects nobody looks at. ``?form=`` name → context name.
ON_DEMAND_FORMS = {"push": "push_form", "close": "close_form", "reopen": "reopen_form", "edit": "edit_form"}


@require_GET
@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity_or_404(request, pk)
    wanted = ON_DEMAND_FORMS.get(request.GET.get("form", ""))
    if wanted and request.htmx:
        return _render_form(request, opportunity, wanted)
    return render_detail(request, opportunity, open_form=wanted)


def render_detail(request: HttpRequest, opportunity: Opportunity, *, status: int = 200, **overrides) -> HttpResponse:
    """The page, with any bound form (or the move dialog) passed in ``overrides``; of the forms
    behind a button, only the open one is rendered (``open_form``), the others on demand."""
    # Managing the deal's team changes only what a closed deal offers and the edit form's fields:
    # asked only then (an open deal's page makes one query fewer).
    manager = None if opportunity.is_open else can_manage_opportunity(request.user, opportunity)
    stages = opportunity_page_stages(opportunity=opportunity)
    today = company_today()
    timeline = opportunity_timeline_page(opportunity=opportunity)
    context = {
        "opportunity": opportunity,
        "stage_path": _stage_path(stages, opportunity),
        "timeline": timeline_for_page(timeline.events),
        "timeline_total": timeline.total,
        "timeline_earlier": timeline.earlier.encode() if timeline.earlier else "",
        "is_stale": opportunity_is_stale(opportunity=opportunity, today=today),
        "is_overdue": opportunity.is_open and opportunity.expected_close_date < today,
        "missing": (
            opportunity_unmet_exit_criteria(opportunity=opportunity)
            if opportunity.is_open and opportunity.stage.has_exit_criteria
            else []
        ),
        "today": today,
        "offered": _offered_forms(opportunity, manager),
        "activity_form": ActivityForm(),  # notes may be added to a closed deal too
        "blank_activity_fields": _blank_activity_fields(get_language()),
    }
    # A form sent back (with the service's refusal) is shown even if this user is not offered it.
    context["offered"] |= {name for name in ON_DEMAND_FORMS.values() if overrides.get(name)}
    open_form = overrides.get("open_form")
    if open_form in context["offered"] and open_form not in overrides:
        if manager is None:
            manager = can_manage_opportunity(request.user, opportunity)
        context[open_form] = _unbound_form(open_form, opportunity, manager=manager, today=today)
    context.update(overrides)
    return render(request, "opportunities/opportunity_detail.html", context, status=status)


def _stage_path(stages: list[Stage], opportunity: Opportunity) -> list[dict]:
    current = next((stage for stage in stages if stage.pk == opportunity.stage_id), None)
    path = []
    for stage in stages:
        if stage.kind == Stage.Kind.OPEN and current is not None and current.kind == Stage.Kind.OPEN:
            state = "done" if (stage.order, stage.pk) < (current.order, current.pk) else "todo"
        else:
            state = "todo"
        if current is not None and stage.pk == current.pk:
            state = "current"
        elif current is not None and current.kind != Stage.Kind.OPEN and stage.kind == Stage.Kind.OPEN:
            state = "done"
        # The button's words here, not in the template: ten stages' worth of tag logic is a
        # tenth of the page's rendering.
        if state == "current":
            title = _("Current stage")
        elif opportunity.is_open:
            title = _("Move to %(name)s") % {"name": stage.name}
        else:
            title = ""
        path.append(
            {
                "stage": stage,
                "state": state,
                "title": title,
                "disabled": state == "current" or not opportunity.is_open,
                "probability": stage.probability if stage.kind == Stage.Kind.OPEN else None,
            }
        )
    return path


@functools.cache
def _blank_activity_fields(language: str) -> str:
    """The empty activity form's fields, rendered once per language: they depend on nothing but
    the code and the language (no user, no row, no token), and Django's form templates cost a few
    milliseconds on every view of the page. A form sent back with errors is rendered as usual."""
    return render_to_string("opportunities/partials/form_fields.html", {"form": ActivityForm()})


def _offered_forms(opportunity: Opportunity, manager: bool | None) -> set[str]:
    """The forms behind a button this user may use on this deal (``manager`` matters, and is
    known, for a closed deal only)."""
    offered = set()
    if opportunity.is_open:
        offered |= {"push_form", "close_form"}
    elif manager:
        offered.add("reopen_form")
    if opportunity.is_open or manager:
        offered.add("edit_form")
    return offered


def _unbound_form(name: str, opportunity: Opportunity, *, manager: bool, today):
    if name == "push_form":
        return PushDateForm(initial={"version": opportunity.version, "new_date": opportunity.expected_close_date})
    if name == "close_form":
        return CloseForm(opportunity=opportunity)
    if name == "reopen_form":
        return ReopenForm(initial={"version": opportunity.version, "expected_close_date": today})
    return OpportunityEditForm(opportunity=opportunity, manager=manager)


def _render_form(request: HttpRequest, opportunity: Opportunity, name: str) -> HttpResponse:
    """One form behind a button, as htmx loads it into its panel when the panel is opened."""
    manager = can_manage_opportunity(request.user, opportunity)
    if name not in _offered_forms(opportunity, manager):
        raise Http404
    form = _unbound_form(name, opportunity, manager=manager, today=company_today())
    return render(
        request,
        f"opportunities/partials/detail_{name}.html",
        {"opportunity": opportunity, "manager": manager, name: form},
    )


@require_GET
@login_required
def opportunity_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Earlier events of the timeline, ``?before=<cursor>``: the next items of the page's list
    (htmx), or without JS a page of their own with a link to the next ones."""
    opportunity = _opportunity_or_404(request, pk)
    try:
        before = TimelineCursor.decode(request.GET.get("before", ""))
    except ValueError as exc:
        raise Http404 from exc
    timeline = opportunity_timeline_page(opportunity=opportunity, before=before)
    context = {
        "opportunity": opportunity,
        "timeline": timeline_for_page(timeline.events),
        "timeline_total": timeline.total,
        "timeline_earlier": timeline.earlier.encode() if timeline.earlier else "",
    }
    if request.htmx:
        return render(request, "opportunities/partials/timeline_more.html", context)
    return render(request, "opportunities/opportunity_history.html", context)


# --- actions ------------------------------------------------------------------------------


def _act(
    request: HttpRequest,
    pk: int,
    *,
    form_name: str,
    build: Callable[..., object],
    run: Callable[[Opportunity, dict], str],
) -> HttpResponse:
    """Parse ``build(data, files, opportunity)``, call ``run`` (one service), redirect back with
    its message; on a refusal show the page again with the form as typed and the error."""
    opportunity = _opportunity_or_404(request, pk)
    form = build(request.POST, request.FILES, opportunity)
    status = 400
    if form.is_valid():
        try:
            text = run(opportunity, form.cleaned_data)
        except ConflictError as exc:
            status = 409
            opportunity = _opportunity_or_404(request, pk)
            form = _rebased(form, build, request, opportunity)
            form.add_error(None, str(exc.message))
        except SERVICE_ERRORS as exc:
            status = 403 if isinstance(exc, PermissionDenied) else 400
            add_service_errors(form, exc)
        else:
            messages.success(request, text)
            return redirect("opportunities:detail", pk=pk)
    opportunity = _opportunity_or_404(request, pk)
    return render_detail(request, opportunity, status=status, **{form_name: form}, open_form=form_name)


def _rebased(form, build, request, current: Opportunity):
    """After a conflict: the same input on top of the current version."""
    if isinstance(form, OpportunityEditForm):
        rebased = form.rebased(current)
        rebased.changed_meanwhile = edit_changes_meanwhile(form, current)
        return rebased
    data = request.POST.copy()
    data["version"] = str(current.version)
    rebased = build(data, request.FILES, current)
    rebased.is_valid()
    return rebased


@require_POST
@login_required
def opportunity_activity(request: HttpRequest, pk: int) -> HttpResponse:
    def run(opportunity, data):
        opportunity_add_activity(
            opportunity=opportunity,
            by=request.user,
            kind=data["kind"],
            body=data["body"],
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            occurred_at=data["occurred_at"],
            files=data["files"],
        )
        return _("Activity logged.")

    return _act(request, pk, form_name="activity_form", build=lambda d, f, o: ActivityForm(d, f), run=run)


@require_POST
@login_required
def opportunity_push_date(request: HttpRequest, pk: int) -> HttpResponse:
    def run(opportunity, data):
        opportunity_push_close_date(
            opportunity=opportunity,
            by=request.user,
            new_date=data["new_date"],
            reason=data["reason"],
            version=data["version"],
        )
        return _("Expected close date changed to %(date)s.") % {"date": data["new_date"].isoformat()}

    return _act(request, pk, form_name="push_form", build=lambda d, f, o: PushDateForm(d), run=run)


@require_POST
@login_required
def opportunity_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    def run(opportunity, data):
        closed = opportunity_close(
            opportunity=opportunity,
            outcome=data["outcome"],
            by=request.user,
            lost_reason=data["lost_reason"] if data["outcome"] == Opportunity.Status.LOST else None,
            reason=data["reason"],
            won_amount=data["won_amount"] if data["outcome"] == Opportunity.Status.WON else None,
            version=data["version"],
        )
        return _("Closed as %(status)s.") % {"status": closed.get_status_display()}

    return _act(request, pk, form_name="close_form", build=lambda d, f, o: CloseForm(d, opportunity=o), run=run)


@require_POST
@login_required
def opportunity_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    def run(opportunity, data):
        opportunity_reopen(
            opportunity=opportunity,
            by=request.user,
            expected_close_date=data["expected_close_date"],
            reason=data["reason"],
            version=data["version"],
        )
        return _("Reopened.")

    return _act(request, pk, form_name="reopen_form", build=lambda d, f, o: ReopenForm(d), run=run)


@require_POST
@login_required
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    def build(data, files, opportunity):
        return OpportunityEditForm(
            data, opportunity=opportunity, manager=can_manage_opportunity(request.user, opportunity)
        )

    def run(opportunity, data):
        form_changes = {name: data[name] for name in OpportunityEditForm.SERVICE_FIELDS if name in data}
        if "probability_is_manual" in form_changes and not form_changes["probability_is_manual"]:
            form_changes.pop("probability", None)  # handing the probability back to the stage
        with transaction.atomic():  # the edit and a new owner stand or fall together
            updated = opportunity_update(
                opportunity=opportunity, by=request.user, version=data["version"], **form_changes
            )
            if "owner" in data and (data["owner"].pk if data["owner"] else None) != updated.owner_id:
                opportunity_assign(
                    opportunity_ids=[updated.pk], owner=data["owner"], by=request.user, reason=data.get("reason", "")
                )
        return _("Changes saved.")

    return _act(request, pk, form_name="edit_form", build=build, run=run)
