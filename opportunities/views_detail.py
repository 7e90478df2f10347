"""The opportunity page: key fields, stage path, the whole history, and the forms that change it.

Each form posts to its own URL, which parses the input, calls one service and redirects back
(post/redirect/get). A refused change shows the page again with the form as it was typed and
the service's message next to the field; a stale version (someone else saved meanwhile) answers
409 with what changed, keeping the input. Stage moves go through ``views_board.opportunity_move``,
the same endpoint the board uses.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.dates import company_today
from crm.exceptions import ConflictError
from customers.models import Contact, Customer
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
    opportunity_evidence,
    opportunity_get_for_user,
    opportunity_is_stale,
    opportunity_timeline,
    opportunity_unmet_exit_criteria,
)
from opportunities.services import (
    opportunity_add_activity,
    opportunity_assign,
    opportunity_close,
    opportunity_push_close_date,
    opportunity_reopen,
    opportunity_update,
)
from sources.models import LeadSource
from stages.models import Stage
from teams.visibility import can_manage_opportunity

SERVICE_ERRORS = (ValidationError, PermissionDenied, ConflictError)
# History rows keep foreign keys as ids (text); the page shows their names.
NAMED_FIELDS = {"customer": Customer, "contact": Contact, "source": LeadSource}


def _opportunity_or_404(request: HttpRequest, pk: int) -> Opportunity:
    try:
        return opportunity_get_for_user(user=request.user, pk=pk)
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc


@require_GET
@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, _opportunity_or_404(request, pk))


def render_detail(request: HttpRequest, opportunity: Opportunity, *, status: int = 200, **overrides) -> HttpResponse:
    """The page, with any bound form (or the move dialog) passed in ``overrides``."""
    manager = can_manage_opportunity(request.user, opportunity)
    stages = list(opportunity.pipeline.stages.all())
    today = company_today()
    timeline = _timeline_for_page(opportunity)
    context = {
        "opportunity": opportunity,
        "manager": manager,
        "stage_path": _stage_path(stages, opportunity),
        "timeline": timeline,
        "is_stale": opportunity_is_stale(opportunity=opportunity, today=today),
        "is_overdue": opportunity.is_open and opportunity.expected_close_date < today,
        "missing": (
            opportunity_unmet_exit_criteria(opportunity=opportunity, evidence=opportunity_evidence(timeline=timeline))
            if opportunity.is_open and opportunity.stage.has_exit_criteria
            else []
        ),
        "today": today,
    }
    if opportunity.is_open:
        context.update(
            activity_form=ActivityForm(),
            push_form=PushDateForm(
                initial={"version": opportunity.version, "new_date": opportunity.expected_close_date}
            ),
            close_form=CloseForm(opportunity=opportunity),
        )
    elif manager:
        context["reopen_form"] = ReopenForm(initial={"version": opportunity.version, "expected_close_date": today})
    if opportunity.is_open or manager:
        context["edit_form"] = OpportunityEditForm(opportunity=opportunity, manager=manager)
    if not opportunity.is_open:
        context["activity_form"] = ActivityForm()  # notes may still be added to a closed deal
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
        path.append({"stage": stage, "state": state})
    return path


def _timeline_for_page(opportunity: Opportunity) -> list[dict]:
    """Newest first, with field names and the names behind ids of edited foreign keys."""
    events = opportunity_timeline(opportunity=opportunity)
    wanted: dict[str, set[int]] = {name: set() for name in NAMED_FIELDS}
    for event in events:
        if event["type"] == "field_changed" and event["field"] in wanted:
            wanted[event["field"]].update(int(v) for v in (event["old_value"], event["new_value"]) if v.isdigit())
    # No query for a kind of field nobody edited (an empty IN list is answered without SQL).
    names = {
        field: {str(pk): name for pk, name in NAMED_FIELDS[field].objects.filter(pk__in=ids).values_list("pk", "name")}
        for field, ids in wanted.items()
    }
    for event in events:
        if event["type"] == "field_changed":
            event["label"] = _field_label(event["field"])
            event["old_display"] = _field_value(event["field"], event["old_value"], names)
            event["new_display"] = _field_value(event["field"], event["new_value"], names)
    return events[::-1]


def _field_label(name: str) -> str:
    try:
        return capfirst(Opportunity._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed from the model keeps its raw name
        return name


def _field_value(name: str, value: str, names: dict) -> str:
    if value in ("true", "false"):
        return _("Yes") if value == "true" else _("No")
    if name in names:
        return names[name].get(value, value) if value else "—"
    return value or "—"


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
