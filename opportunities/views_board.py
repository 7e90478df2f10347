"""The Kanban board and the stage move it shares with the opportunity page.

A move answers 200 only when the deal moved. When the move needs more (the stage's exit
criteria, the won amount, the lost reason) the answer is 422 with a dialog asking for exactly
that; a refused move is 400/403/409 with a message. The board leaves a dragged card in its new
column only on a 200, so a card never looks moved when it is not.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.dates import company_today
from crm.exceptions import ConflictError
from opportunities.board_cards import BoardCards
from opportunities.forms import MoveDialogForm, MoveForm, MoveNeeds
from opportunities.forms_admin import add_service_errors
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_get_for_user, opportunity_unmet_exit_criteria
from opportunities.selectors_board import (
    BOARD_PAGE_SIZE,
    BoardCard,
    board_column_cards,
    board_column_figures,
    board_columns,
    board_columns_unfiltered,
    board_cursor,
    board_cursor_parse,
    board_filter_data,
    board_opportunities,
    board_opportunities_by_branch,
    board_pipeline_choose,
    board_pipelines,
    board_stage_for,
)
from opportunities.services import opportunity_add_activity, opportunity_move_stage, opportunity_update
from opportunities.templatetags.opportunity_display import person
from opportunities.views_detail import render_detail
from stages.models import Stage
from stages.selectors import stages_of_pipeline
from teams.selectors import teams_managed_by, user_is_manager, users_assignable_by


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@require_GET
@login_required
def board(request: HttpRequest) -> HttpResponse:
    asked = request.GET.get("pipeline", "")
    pipeline_id = _int_or_none(asked)
    pipelines = board_pipelines(user=request.user, flag_deals=pipeline_id is None)
    pipeline = board_pipeline_choose(pipelines=pipelines, pipeline_id=pipeline_id)
    if asked and (pipeline_id is None or pipeline is None):  # unknown, inactive or malformed
        raise Http404
    today = company_today()
    context = {
        "pipelines": pipelines,
        "pipeline": pipeline,
        "pipeline_options": BoardCards.options(pipelines, selected=str(pipeline.pk) if pipeline else None),
        "today": today,
        "page_size": BOARD_PAGE_SIZE,
    }
    filters = board_filter_data(request.GET)
    # Managers and admins filter by team and owner; a rep sees only their own deals anyway, and
    # the flag loaded with the request's user says which they are without a query.
    teams = list(teams_managed_by(user=request.user)) if user_is_manager(user=request.user) else []
    if teams:
        owners = list(users_assignable_by(user=request.user))
        context.update(
            teams=teams,
            owners=owners,
            team_options=BoardCards.options(teams, selected=filters.get("team")),
            owner_options=BoardCards.options(owners, selected=filters.get("owner"), label=person),
        )
    if pipeline is not None:
        stages = stages_of_pipeline(pipeline_id=pipeline.pk)
        if filters:
            branches = board_opportunities_by_branch(user=request.user, pipeline=pipeline, filters=filters)
            columns = board_columns(stages=stages, branches=branches)
        else:
            columns = board_columns_unfiltered(user=request.user, pipeline=pipeline, stages=stages)
        html = BoardCards(today=today)
        board_query = filters.urlencode()
        context.update(
            stages=stages,
            columns=columns,
            columns_html=html.columns(columns, board_query=board_query),
            closing_stages=[stage for stage in stages if stage.kind != Stage.Kind.OPEN],
            totals=_totals(columns),
        )
    context.update(filters=filters, board_query=filters.urlencode())
    return render(request, "opportunities/board.html", context)


def _totals(columns) -> dict:
    return {
        "count": sum(column.count for column in columns),
        "total": sum(column.total for column in columns),
        "weighted": sum(column.weighted for column in columns),
    }


@require_GET
@login_required
def board_column(request: HttpRequest, stage_id: int) -> HttpResponse:
    """The next cards of one column ("load more")."""
    try:
        stage = board_stage_for(stage_id=stage_id)
        after = board_cursor_parse(request.GET.get("after", ""))
    except (Stage.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    queryset = board_opportunities(user=request.user, pipeline=stage.pipeline, filters=request.GET)
    cards, has_more = board_column_cards(queryset=queryset, stage=stage, after=after, page_size=BOARD_PAGE_SIZE)
    html = BoardCards(today=company_today())
    cursor = board_cursor(cards[-1]) if cards else ""
    more = html.more_button(
        stage=stage, has_more=has_more, cursor=cursor, board_query=board_filter_data(request.GET).urlencode(), oob=True
    )
    return render(
        request,
        "opportunities/partials/board_column_more.html",
        {
            "stage": stage,
            "cards": cards,
            "has_more": has_more,
            "cursor": cursor,
            "cards_html": html.cards(cards),
            "more_html": more,
        },
    )


# --- moving a deal (board and opportunity page) -------------------------------------------------


def _opportunity_or_404(request: HttpRequest, pk: int) -> Opportunity:
    try:
        return opportunity_get_for_user(user=request.user, pk=pk)
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc


@require_POST
@login_required
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage of its pipeline through ``opportunity_move_stage``.

    From the dialog (``confirm``), the evidence asked for is recorded in the current stage, the
    missing fields are saved and the move is tried again, all in one transaction: if the move is
    still refused nothing is kept, and the dialog comes back with the user's input.
    """
    opportunity = _opportunity_or_404(request, pk)
    stages = list(opportunity.pipeline.stages.all())
    form = MoveForm(request.POST, stages=stages)
    if not form.is_valid():
        return _refused(request, opportunity, form, [_("Choose a stage of this opportunity's pipeline.")], status=400)
    target, version = form.cleaned_data["stage"], form.cleaned_data["version"]
    move = {"target": target, "form": form}
    if not form.cleaned_data["confirm"]:
        return _move_asked(request, opportunity, target, version, stages, move)

    needs = MoveNeeds.decode(form.cleaned_data["needs"])
    dialog = MoveDialogForm(request.POST, request.FILES, opportunity=opportunity, target=target, needs=needs)
    if not dialog.is_valid():
        return _dialog(request, opportunity, dialog, move, status=422)
    try:
        with transaction.atomic():
            version = _record_dialog_input(request, opportunity, dialog, version)
            opportunity_move_stage(
                opportunity=opportunity, stage=target, by=request.user, version=version, **_closing_input(dialog)
            )
    except ConflictError as exc:
        fresh = _opportunity_or_404(request, pk)
        dialog = MoveDialogForm(request.POST, opportunity=fresh, target=target, needs=needs)
        dialog.is_valid()
        dialog.add_error(None, str(exc.message))
        return _dialog(request, fresh, dialog, move, status=409)
    except (ValidationError, PermissionDenied) as exc:
        still = MoveNeeds.from_messages(exc.messages, stages) if isinstance(exc, ValidationError) else MoveNeeds()
        if still.any:
            # A gate is still unmet. Nothing was kept, so ask again for all of it (what this
            # dialog asked plus what is still missing), keeping what was typed.
            dialog = MoveDialogForm(request.POST, opportunity=opportunity, target=target, needs=still.merged(needs))
            dialog.is_valid()
        else:
            add_service_errors(dialog, exc)
        return _dialog(request, opportunity, dialog, move, status=422)
    return _moved(request, pk, target, form)


def _move_asked(request, opportunity: Opportunity, target: Stage, version, stages, move: dict) -> HttpResponse:
    """A drag or a click on the stage path: move straight away, or answer with what is needed."""
    if target.kind != Stage.Kind.OPEN and opportunity.is_open:
        # Won asks for the won amount (and any evidence still missing); lost asks why.
        missing = opportunity_unmet_exit_criteria(opportunity=opportunity, target=target)
        needs = MoveNeeds.from_messages(missing, stages) if target.kind == Stage.Kind.WON else MoveNeeds()
        dialog = MoveDialogForm(opportunity=opportunity, target=target, needs=needs)
        return _dialog(request, opportunity, dialog, move, status=422)
    try:
        opportunity_move_stage(opportunity=opportunity, stage=target, by=request.user, version=version)
    except ConflictError as exc:
        fresh = _opportunity_or_404(request, opportunity.pk)
        return _refused(request, fresh, move["form"], [str(exc.message)], status=409)
    except PermissionDenied as exc:
        return _refused(request, opportunity, move["form"], [str(exc) or _("You may not do that.")], status=403)
    except ValidationError as exc:
        needs = MoveNeeds.from_messages(exc.messages, stages)
        if needs.any:
            dialog = MoveDialogForm(opportunity=opportunity, target=target, needs=needs)
            return _dialog(request, opportunity, dialog, move, status=422)
        return _refused(request, opportunity, move["form"], exc.messages, status=400)
    return _moved(request, opportunity.pk, target, move["form"])


def _record_dialog_input(request, opportunity: Opportunity, dialog: MoveDialogForm, version: int | None) -> int | None:
    """Evidence as an activity in the current stage; missing fields through opportunity_update.
    Returns the version the move should still check (None once an update has checked it)."""
    data = dialog.cleaned_data
    if dialog.needs.evidence:
        opportunity_add_activity(
            opportunity=opportunity,
            by=request.user,
            kind=data["kind"],
            body=data.get("body", ""),
            carrier=data.get("carrier", ""),
            tracking_number=data.get("tracking_number", ""),
            files=data.get("files", []),
        )
    changes = {name: data[name] for name in dialog.needs.fields if name in data}
    if changes:
        opportunity_update(opportunity=opportunity, by=request.user, version=version, **changes)
        return None  # checked; the row stays locked until the move commits
    return version


def _closing_input(dialog: MoveDialogForm) -> dict:
    data = dialog.cleaned_data
    kind = dialog.target.kind
    if kind == Stage.Kind.WON:
        return {"won_amount": data.get("won_amount"), "reason": data.get("body", "")}
    if kind == Stage.Kind.LOST:
        return {"lost_reason": data["lost_reason"], "reason": data.get("body", "")}
    return {} if dialog.needs.evidence else {"note": data.get("body", "")}


def _is_board(form: MoveForm) -> bool:
    return form.is_bound and form.data.get("context") == "board"


def _moved(request: HttpRequest, pk: int, target: Stage, form: MoveForm) -> HttpResponse:
    opportunity = _opportunity_or_404(request, pk)
    if opportunity.is_open:
        text = _("Moved to “%(stage)s”.") % {"stage": target.name}
    else:
        text = _("Closed as %(status)s.") % {"status": opportunity.get_status_display()}
    detail_url = reverse("opportunities:detail", args=[pk])
    if _is_board(form) and request.htmx:
        response = _board_update(request, opportunity, form, message=text, level="success")
        # From the dialog (htmx): the update goes to the board's sink, which board.js applies.
        response["HX-Retarget"] = "#board-sink"
        response["HX-Reswap"] = "innerHTML"
        return response
    messages.success(request, text)
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = detail_url
        return response
    return redirect(detail_url)


def _board_update(request, opportunity: Opportunity, form: MoveForm, *, message: str, level: str, status=200):
    """The card as it is now and the figures of every column, for board.js to put in place."""
    filters = QueryDict(form.data.get("board_query", ""))
    queryset = board_opportunities(user=request.user, pipeline=opportunity.pipeline, filters=filters)
    figures = {row["stage_id"]: row for row in board_column_figures(queryset=queryset)}
    stages = [stage for stage in opportunity.pipeline.stages.all() if stage.kind == Stage.Kind.OPEN]
    heads = [{"stage": stage, **figures.get(stage.pk, {"count": 0, "total": 0, "weighted": 0})} for stage in stages]
    html = BoardCards(today=company_today())
    return render(
        request,
        "opportunities/partials/board_update.html",
        {
            "card": opportunity,
            "card_html": html.card(BoardCard.of(opportunity)) if opportunity.is_open else "",
            "heads": heads,
            "heads_html": [
                html.column_head(
                    stage=head["stage"], count=head["count"], total=head["total"], weighted=head["weighted"]
                )
                for head in heads
            ],
            "totals": _totals_of(heads),
            "message": message,
            "level": level,
        },
        status=status,
    )


def _totals_of(heads) -> dict:
    return {key: sum(head[key] for head in heads) for key in ("count", "total", "weighted")}


def _refused(request, opportunity: Opportunity, form: MoveForm, reasons: list[str], *, status: int) -> HttpResponse:
    """The move did not happen and nothing more can be asked: say why."""
    if _is_board(form) and request.htmx:
        # The board's drag: the card as it really is (board.js puts it back) and the message.
        return _board_update(request, opportunity, form, message=" ".join(reasons), level="error", status=status)
    if request.htmx:
        # 422 rather than 400/403: django-htmx's debug helper would replace the page with those.
        return render(
            request,
            "opportunities/partials/move_refused.html",
            {"opportunity": opportunity, "reasons": reasons},
            status=409 if status == 409 else 422,
        )
    return render_detail(request, opportunity, status=status, move_refused=reasons)


def _dialog(request, opportunity: Opportunity, dialog: MoveDialogForm, move: dict, *, status: int) -> HttpResponse:
    form: MoveForm = move["form"]
    context = {
        "opportunity": opportunity,
        "dialog": dialog,
        "target": move["target"],
        "leaving": opportunity.stage,
        "version": opportunity.version,
        "move_context": "board" if _is_board(form) else "detail",
        "board_query": form.data.get("board_query", ""),
    }
    if request.htmx:
        return render(request, "opportunities/partials/move_dialog.html", context, status=status)
    del context["opportunity"]
    return render_detail(request, opportunity, status=status, show_move_dialog=True, **context)
