"""Reads of opportunities. Every user-dependent read starts from ``visible_to(user)``."""

import datetime
import re

from django.db.models import BigIntegerField, Count, DecimalField, F, Lookup, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils.translation import gettext as _

from opportunities.models import Activity, Attachment, LostReason, Opportunity
from opportunities.pagination import BranchedRows
from stages.models import Stage
from teams.models import Team, User
from teams.visibility import attachment_visibility_q


def opportunities_visible_to(*, user) -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user).select_related(
        "customer", "contact", "pipeline", "stage", "owner", "team", "source", "lost_reason"
    )


def opportunity_get_for_user(*, user, pk) -> Opportunity:
    """One visible opportunity, with its creator (the timeline's first event); anything else is
    Opportunity.DoesNotExist (a 404 for callers)."""
    return opportunities_visible_to(user=user).select_related("created_by").get(pk=pk)


def attachments_visible_to(*, user) -> QuerySet[Attachment]:
    return Attachment.objects.filter(attachment_visibility_q(user)).select_related("opportunity", "stage")


def opportunity_unmet_exit_criteria(
    *,
    opportunity: Opportunity,
    stage: Stage | None = None,
    target: Stage | None = None,
    evidence: tuple[set[int], set[int]] | None = None,
) -> list[str]:
    """What is still missing before the deal may leave ``stage`` (default: its current stage)
    and, when ``target`` is given, pass every gated open stage between the two.

    Evidence for a stage counts if it was recorded while the deal was in that stage. For a stage
    the move jumps over, evidence recorded in the stage being left counts too: the rep provides
    it as they skip. So going back to an earlier stage and jumping forward again never bypasses
    a gate. Three queries, however many stages are passed; ``evidence`` (the ids of the stages
    with a file, and with a tracking number, from ``opportunity_evidence``) saves two of them.
    """
    current = stage or opportunity.stage
    gated = [current]
    if target is not None:
        passed = Stage.objects.filter(pipeline_id=current.pipeline_id, kind=Stage.Kind.OPEN).order_by("order", "pk")
        gated += [
            candidate
            for candidate in passed
            if (candidate.order, candidate.pk) > (current.order, current.pk)
            and (target.kind == Stage.Kind.WON or (candidate.order, candidate.pk) < (target.order, target.pk))
        ]
    gated = [item for item in gated if item.has_exit_criteria]
    if not gated:
        return []
    stage_ids = {item.pk for item in gated} | {current.pk}
    with_files = set()
    with_tracking = set()
    if evidence is not None:
        with_files, with_tracking = evidence
    elif any(item.requires_attachment for item in gated):
        with_files = set(
            Attachment.objects.filter(opportunity=opportunity, stage_id__in=stage_ids).values_list(
                "stage_id", flat=True
            )
        )
    if evidence is None and any(item.requires_tracking_number for item in gated):
        with_tracking = set(
            Activity.objects.filter(opportunity=opportunity, stage_id__in=stage_ids)
            .exclude(tracking_number="")
            .values_list("stage_id", flat=True)
        )
    missing: list[str] = []
    for item in gated:
        # Evidence recorded in the stage itself, or (for a skipped stage) in the stage being left.
        places = {item.pk, current.pk}
        if item.requires_attachment and not places & with_files:
            missing.append(_("Attach a file (e.g. a sample photo) in the stage “%(stage)s”.") % {"stage": item.name})
        if item.requires_tracking_number and not places & with_tracking:
            missing.append(_("Enter a courier tracking number in the stage “%(stage)s”.") % {"stage": item.name})
    for field in dict.fromkeys(field for item in gated for field in item.required_fields or []):
        label = Stage.REQUIRED_FIELD_CHOICES.get(field)
        if label is None:
            continue
        value = getattr(opportunity, f"{field}_id" if field == "contact" else field)
        if value in (None, ""):
            missing.append(_("Fill in “%(field)s”.") % {"field": label})
    return missing


# --- staleness ("rotting") -----------------------------------------------------------------


def _stale_threshold(*, rotting_days: int, today):
    """The moment before which a deal's last sign of life makes it stale, in company time.

    A deal idle for ``rotting_days`` whole company-calendar days is stale: last touched on
    day D, it turns stale at the start of day D + rotting_days.
    """
    import datetime

    from crm.dates import company_zone

    first_fresh_day = today - datetime.timedelta(days=rotting_days - 1)
    return datetime.datetime.combine(first_fresh_day, datetime.time.min, tzinfo=company_zone())


def opportunity_stale_q(*, today=None):
    """A Q for open deals idle past their stage's rotting days.

    Idle since the later of the last activity and the stage entry: an activity logged in an
    earlier stage does not make a deal that just moved look stale. One small query reads the
    distinct rotting-day values in use, so the condition stays one OR per value, not per stage.
    """
    from django.db.models import Q

    from crm.dates import company_today

    today = today or company_today()
    days_in_use = (
        Stage.objects.filter(rotting_days__isnull=False, kind=Stage.Kind.OPEN)
        .order_by()
        .values_list("rotting_days", flat=True)
        .distinct()
    )
    condition = Q(pk__in=[])
    for days in days_in_use:
        threshold = _stale_threshold(rotting_days=days, today=today)
        condition |= Q(stage__rotting_days=days, stage_entered_at__lt=threshold) & (
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=threshold)
        )
    return Q(status=Opportunity.Status.OPEN) & condition


def opportunity_is_stale(*, opportunity: Opportunity, today=None) -> bool:
    """The same rule as ``opportunity_stale_q``, for one row already loaded with its stage."""
    from crm.dates import company_today

    days = opportunity.stage.rotting_days
    if opportunity.status != Opportunity.Status.OPEN or days is None or opportunity.stage.kind != Stage.Kind.OPEN:
        return False
    idle_since = max(filter(None, (opportunity.last_activity_at, opportunity.stage_entered_at)))
    return idle_since < _stale_threshold(rotting_days=days, today=today or company_today())


# --- activities and the timeline ----------------------------------------------------------


def opportunity_activities(*, opportunity: Opportunity) -> QuerySet[Activity]:
    """The activities of one (already visibility-checked) opportunity, with their files."""
    return (
        Activity.objects.filter(opportunity=opportunity)
        .select_related("author", "stage")
        .prefetch_related("attachments")
    )


def opportunity_evidence(*, timeline: list[dict]) -> tuple[set[int], set[int]]:
    """From a deal's ``opportunity_timeline``: the ids of the stages in which a file was
    attached, and in which a courier tracking number was recorded (the exit criteria's
    evidence, as ``opportunity_unmet_exit_criteria`` reads it)."""
    with_files: set[int] = set()
    with_tracking: set[int] = set()
    for event in timeline:
        if event["type"] == "activity":
            activity = event["activity"]
            with_files.update(attachment.stage_id for attachment in activity.attachments.all())
            if activity.tracking_number:
                with_tracking.add(activity.stage_id)
    return with_files, with_tracking


_PERSON_PARTS = (("id", "integer"), ("username", "text"), ("first_name", "text"), ("last_name", "text"))
_STAGE_PARTS = (("id", "integer"), ("name", "text"), ("kind", "text"))

TIMELINE_EVENT_TYPES = (
    "created",
    "assigned",
    "stage_changed",
    "close_date_changed",
    "field_changed",
    "activity",
    "won",
    "lost",
    "expired",
    "reopened",
)
# Events written in one service call share their moment; this keeps them in the order they happen.
_TIMELINE_ORDER = {name: position for position, name in enumerate(TIMELINE_EVENT_TYPES)}


def opportunity_timeline(*, opportunity: Opportunity) -> list[dict]:
    """Everything that happened to one (already visibility-checked) deal, oldest first.

    Merges assignments, stage changes, close-date changes, field edits, status changes
    (won / lost / expired / reopened) and activities with their attachments, plus a
    ``created`` event. Each event is a dict ``{"type", "at", "by", …details}`` whose values are
    model instances (users, teams, stages, activities), for the pages and the API alike.
    One query, however long the history: the seven tables' rows as one UNION ALL, each with the
    names of the people, teams and stages it refers to. ``opportunity.created_by`` should come
    loaded with the deal (``select_related``).
    """
    rows = _timeline_rows(opportunity)
    people: dict[int, User] = {}
    teams: dict[int, Team] = {}
    stages: dict[int, Stage] = {}

    def person(row: dict, key: str) -> User | None:
        pk = row[f"{key}_id"]
        if pk is None:
            return None
        if pk not in people:
            people[pk] = User(
                pk=pk,
                username=row[f"{key}_username"],
                first_name=row[f"{key}_first_name"],
                last_name=row[f"{key}_last_name"],
            )
        return people[pk]

    def team(row: dict, key: str) -> Team | None:
        pk = row[f"{key}_id"]
        if pk is not None and pk not in teams:
            teams[pk] = Team(pk=pk, name=row[f"{key}_name"])
        return teams.get(pk)

    def stage(row: dict, key: str) -> Stage | None:
        pk = row[f"{key}_id"]
        if pk is not None and pk not in stages:
            stages[pk] = Stage(pk=pk, name=row[f"{key}_name"], kind=row[f"{key}_kind"])
        return stages.get(pk)

    rows.sort(key=lambda row: (row["at"], row["row_id"]))
    files: dict[int, list[Attachment]] = {}
    for row in rows:
        if row["kind"] == "attachment":
            files.setdefault(row["parent_id"], []).append(
                Attachment(
                    pk=row["row_id"],
                    activity_id=row["parent_id"],
                    opportunity_id=opportunity.pk,
                    stage_id=row["stage_id"],
                    file=row["text3"],
                    stored_name=row["text4"],
                    original_name=row["text"],
                    content_type=row["text2"],
                    size=row["number"],
                    uploaded_by_id=row["by_id"],
                    created_at=row["at"],
                )
            )

    events: list[dict] = []
    initial_stage = None
    for row in rows:
        kind = row["kind"]
        by = person(row, "by")
        if kind == "stage_changed" and row["stage_id"] is None and initial_stage is None:
            initial_stage = row  # written by the create service: part of the "created" event
        elif kind == "stage_changed":
            events.append(
                {
                    "type": "stage_changed",
                    "at": row["at"],
                    "by": by,
                    "from_stage": stage(row, "stage"),
                    "to_stage": stage(row, "stage2"),
                    "probability_before": row["number"],
                    "probability_after": row["number2"],
                    "note": row["text"],
                }
            )
        elif kind == "assigned":
            events.append(
                {
                    "type": "assigned",
                    "at": row["at"],
                    "by": by,
                    "from_owner": person(row, "user"),
                    "to_owner": person(row, "user2"),
                    "from_team": team(row, "team"),
                    "to_team": team(row, "team2"),
                    "reason": row["text"],
                }
            )
        elif kind == "close_date_changed":
            events.append(
                {
                    "type": "close_date_changed",
                    "at": row["at"],
                    "by": by,
                    "old_date": row["date"],
                    "new_date": row["date2"],
                    "is_push": row["date"] is not None and row["date2"] > row["date"],
                    "reason": row["text"],
                }
            )
        elif kind == "field_changed":
            events.append(
                {
                    "type": "field_changed",
                    "at": row["at"],
                    "by": by,
                    "field": row["text"],
                    "old_value": row["text2"],
                    "new_value": row["text3"],
                }
            )
        elif kind == "status_changed":
            lost_reason = None
            if row["lost_reason_id"] is not None:
                lost_reason = LostReason(pk=row["lost_reason_id"], name=row["lost_reason_name"])
            events.append(
                {
                    "type": "reopened" if row["text3"] == Opportunity.Status.OPEN else row["text3"],
                    "at": row["at"],
                    "by": by,
                    "from_status": row["text2"],
                    "reason": row["text"],
                    "lost_reason": lost_reason,
                    "owner": person(row, "user"),
                }
            )
        elif kind == "activity":
            activity = Activity(
                pk=row["row_id"],
                opportunity_id=opportunity.pk,
                stage_id=row["stage_id"],
                kind=row["text2"],
                body=row["text"],
                carrier=row["text3"],
                tracking_number=row["text4"],
                occurred_at=row["at"],
                author_id=row["by_id"],
                created_at=row["moment"],
            )
            activity.stage = stage(row, "stage")
            activity.author = by
            activity._prefetched_objects_cache = {"attachments": Attachment.objects.none()}
            activity._prefetched_objects_cache["attachments"]._result_cache = files.get(activity.pk, [])
            activity._prefetched_objects_cache["attachments"]._prefetch_done = True
            events.append({"type": "activity", "at": row["at"], "by": by, "activity": activity})
    # The create service stamps its history rows a moment before the row's own created_at.
    created_at = min(opportunity.created_at, initial_stage["at"]) if initial_stage else opportunity.created_at
    events.append(
        {
            "type": "created",
            "at": created_at,
            "by": opportunity.created_by,
            "stage": stage(initial_stage, "stage2") if initial_stage else None,
            "probability": initial_stage["number2"] if initial_stage else None,
        }
    )
    events.sort(key=lambda event: (event["at"], _TIMELINE_ORDER[event["type"]]))
    return events


# Columns of the timeline's UNION ALL; each table's branch fills some and leaves the rest NULL.
_TIMELINE_COLUMNS = {
    "kind": "text",
    "row_id": "integer",
    "at": "datetime",
    **{f"{who}_{part}": kind for who in ("by", "user", "user2") for part, kind in _PERSON_PARTS},
    "team_id": "integer",
    "team_name": "text",
    "team2_id": "integer",
    "team2_name": "text",
    **{f"{which}_{part}": kind for which in ("stage", "stage2") for part, kind in _STAGE_PARTS},
    "number": "integer",
    "number2": "integer",
    "date": "date",
    "date2": "date",
    "text": "text",
    "text2": "text",
    "text3": "text",
    "text4": "text",
    "lost_reason_id": "integer",
    "lost_reason_name": "text",
    "moment": "datetime",
    "parent_id": "integer",
}


def _timeline_rows(opportunity: Opportunity) -> list[dict]:
    from django.db.models import BigIntegerField, CharField, DateField, DateTimeField, TextField, Value
    from django.db.models.functions import Cast

    from opportunities.models import Assignment, CloseDateChange, FieldChange, StageChange, StatusChange

    fields = {
        "text": TextField(),
        "integer": BigIntegerField(),
        "datetime": DateTimeField(),
        "date": DateField(),
    }

    def person(who: str, path: str) -> dict:
        return {f"{who}_{part}": f"{path}__{part}" if part != "id" else f"{path}_id" for part, _kind in _PERSON_PARTS}

    def stage(which: str, path: str) -> dict:
        return {f"{which}_{part}": f"{path}__{part}" if part != "id" else f"{path}_id" for part, _kind in _STAGE_PARTS}

    def branch(model, kind: str, columns: dict):
        values = {}
        for name, column_type in _TIMELINE_COLUMNS.items():
            source = columns.get(name)
            alias = f"timeline_{name}"  # no clash with the models' own field names
            if name == "kind":
                values[alias] = Value(kind, output_field=CharField())
            elif source is None:
                values[alias] = Cast(Value(None), fields[column_type])
            elif column_type == "text":
                values[alias] = Cast(F(source), TextField())
            elif column_type == "integer":
                values[alias] = Cast(F(source), BigIntegerField())
            else:
                values[alias] = F(source)
        return model.objects.filter(opportunity=opportunity).order_by().values(**values)

    history = {"row_id": "id", "at": "at", **person("by", "by")}
    branches = [
        branch(
            StageChange,
            "stage_changed",
            {
                **history,
                **stage("stage", "from_stage"),
                **stage("stage2", "to_stage"),
                "number": "probability_before",
                "number2": "probability_after",
                "text": "note",
            },
        ),
        branch(
            Assignment,
            "assigned",
            {
                **history,
                **person("user", "from_owner"),
                **person("user2", "to_owner"),
                "team_id": "from_team_id",
                "team_name": "from_team__name",
                "team2_id": "to_team_id",
                "team2_name": "to_team__name",
                "text": "reason",
            },
        ),
        branch(
            CloseDateChange,
            "close_date_changed",
            {**history, "date": "old_date", "date2": "new_date", "text": "reason"},
        ),
        branch(FieldChange, "field_changed", {**history, "text": "field", "text2": "old_value", "text3": "new_value"}),
        branch(
            StatusChange,
            "status_changed",
            {
                **history,
                **person("user", "owner"),
                "text": "reason",
                "text2": "from_status",
                "text3": "to_status",
                "lost_reason_id": "lost_reason_id",
                "lost_reason_name": "lost_reason__name",
            },
        ),
        branch(
            Activity,
            "activity",
            {
                "row_id": "id",
                "at": "occurred_at",
                **person("by", "author"),
                **stage("stage", "stage"),
                "text": "body",
                "text2": "kind",
                "text3": "carrier",
                "text4": "tracking_number",
                "moment": "created_at",
            },
        ),
        branch(
            Attachment,
            "attachment",
            {
                "row_id": "id",
                "at": "created_at",
                **person("by", "uploaded_by"),
                **stage("stage", "stage"),
                "parent_id": "activity_id",
                "text": "original_name",
                "text2": "content_type",
                "text3": "file",
                "text4": "stored_name",
                "number": "size",
            },
        ),
    ]
    prefix = len("timeline_")
    return [
        {alias[prefix:]: value for alias, value in row.items()} for row in branches[0].union(*branches[1:], all=True)
    ]


# --- pages: the home dashboard -----------------------------------------------------------


def _company_midnight(day: datetime.date) -> datetime.datetime:
    from crm.dates import company_zone

    return datetime.datetime.combine(day, datetime.time.min, tzinfo=company_zone())


def opportunity_incentive_month_to_date(*, user, today: datetime.date | None = None) -> dict:
    """My incentive so far this month, on the home page: the totals of the reports app's
    incentive report (the IncentivePolicy in force on the day each deal was won: base reward ×
    difficulty coefficient + bonuses) over the deals won since the 1st, company time, credited to
    ``user`` — or, for a manager, to anyone in the teams they manage. Summed by the database
    without the report's lines. Two queries (the policies, the sums).
    ``{"won_count", "payout", "currency"}``."""
    from crm.dates import company_today
    from reports.periods import Period, month_start
    from reports.selectors import incentive_totals

    today = today or company_today()
    totals = incentive_totals(viewer=user, period=Period(month_start(today), today))
    return {"won_count": totals["won"], "payout": totals["payout"], "currency": totals["currency"]}


def opportunity_dashboard(*, user, today: datetime.date | None = None, list_size: int = 6) -> dict:
    """What the home page shows of the deals ``user`` sees: the key figures, open deals by
    stage, and the first few deals closing within 7 days, overdue (past their date, still open),
    expired in the last 30 days and stale. Four queries, whatever the number of deals: the idle
    limits in use, the figures per stage (the key figures are their sums), the ids of the four
    short lists, and those deals."""
    from crm.dates import company_today

    today = today or company_today()
    soon = today + datetime.timedelta(days=7)
    stale = opportunity_stale_q(today=today)  # one small query (the idle limits in use)
    visible = opportunities_visible_to(user=user)
    open_q = Q(status=Opportunity.Status.OPEN)
    closing_q = open_q & Q(expected_close_date__gte=today, expected_close_date__lte=soon)
    overdue_q = open_q & Q(expected_close_date__lt=today)
    expired_q = Q(
        status=Opportunity.Status.EXPIRED,
        closed_at__gte=_company_midnight(today - datetime.timedelta(days=DASHBOARD_EXPIRED_DAYS)),
    )
    # Every figure is about open deals or recently expired ones: only those rows are read, branch
    # by branch of the visibility rule and open apart from expired, each on an index of its own.
    # The open deals' figures read only columns of the partial open-deal indexes (not the status:
    # those rows are all open), so they are counted from the index alone.
    nothing = Value(0, output_field=BigIntegerField())
    open_figures = {
        "open": Count("pk"),
        "open_amount": Sum("amount_base"),
        "closing": Count("pk", filter=Q(expected_close_date__gte=today, expected_close_date__lte=soon)),
        "overdue": Count("pk", filter=Q(expected_close_date__lt=today)),
        "expired": nothing,
        "stale": Count("pk", filter=_among_open(stale)),
        "pool": Count("pk", filter=Q(owner__isnull=True)),
    }
    expired_figures = dict.fromkeys(open_figures, nothing) | {
        "open_amount": Cast(Value(None), output_field=DecimalField(max_digits=16, decimal_places=2)),
        "expired": Count("pk"),
    }
    stage_columns = ("pipeline_id", "pipeline__name", "pipeline__order", "stage_id", "stage__name", "stage__order")
    by_stage = _figures_by_stage(
        [
            branch.filter(rows).order_by().values(*stage_columns).annotate(**figures)
            for branch in Opportunity.objects.visible_to_by_branch(user)
            for rows, figures in ((open_q, open_figures), (expired_q, expired_figures))
        ],
        keys=stage_columns,
        figures=list(open_figures),
    )
    counted = ("open", "closing", "overdue", "expired", "stale", "pool")
    kpis = {key: sum(row[key] for row in by_stage) for key in counted}
    amounts = [row["open_amount"] for row in by_stage if row["open_amount"] is not None]
    kpis["open_amount"] = sum(amounts) if amounts else None
    pipelines: list[dict] = []
    for row in by_stage:
        if not row["open"]:
            continue
        if not pipelines or pipelines[-1]["id"] != row["pipeline_id"]:
            pipelines.append({"id": row["pipeline_id"], "name": row["pipeline__name"], "stages": []})
        pipelines[-1]["stages"].append(
            {"id": row["stage_id"], "name": row["stage__name"], "count": row["open"], "amount": row["open_amount"]}
        )
    for pipeline in pipelines:
        widest = max(stage["count"] for stage in pipeline["stages"])
        for stage in pipeline["stages"]:
            stage["share"] = round(100 * stage["count"] / widest)
    idle_since = Greatest(Coalesce("last_activity_at", "stage_entered_at"), "stage_entered_at")
    # The first rows of each list, branch by branch of the visibility rule (each in the list's
    # order on an index of its own, as the figures): an OR of the branches made PostgreSQL walk
    # every open deal for the stale list. The branches' first rows are then merged here.
    lists = {
        "closing": (lambda rows: rows.filter(closing_q).order_by("expected_close_date", "pk"), _by_close_date),
        "overdue": (lambda rows: rows.filter(overdue_q).order_by("expected_close_date", "pk"), _by_close_date),
        "expired": (lambda rows: rows.filter(expired_q).order_by("-closed_at", "-pk"), _by_closed_at_desc),
        "stale": (
            lambda rows: rows.filter(stale).annotate(idle_since=idle_since).order_by("idle_since", "pk"),
            _by_idle_since,
        ),
    }
    branches = Opportunity.objects.visible_to_by_branch(user)
    ids = _first_ids(
        {
            (name, position): first_rows(branch)
            for name, (first_rows, _key) in lists.items()
            for position, branch in enumerate(branches)
        },
        limit=list_size,
    )
    wanted = {pk for found in ids.values() for pk in found}
    deals = {deal.pk: deal for deal in visible.filter(pk__in=wanted).annotate(idle_since=idle_since)} if wanted else {}
    return {
        "today": today,
        "soon": soon,
        "yesterday": today - datetime.timedelta(days=1),
        "expired_days": DASHBOARD_EXPIRED_DAYS,
        "kpis": kpis,
        "pipelines": pipelines,
        **{
            name: sorted(
                (
                    deals[pk]
                    for (listed, _position), found in ids.items()
                    if listed == name
                    for pk in found
                    if pk in deals
                ),
                key=key,
            )[:list_size]
            for name, (_first_rows, key) in lists.items()
        },
    }


def _among_open(condition: Q) -> Q:
    """``condition`` (an AND whose one term is ``status = open``) without that term, for rows
    already read as open deals from a partial index, which does not hold the status column."""
    open_term = ("status", Opportunity.Status.OPEN)
    assert condition.connector == Q.AND and not condition.negated and open_term in condition.children  # noqa: S101
    return Q(*(child for child in condition.children if child != open_term))


def _figures_by_stage(querysets: list[QuerySet], *, keys: tuple, figures: list[str]) -> list[dict]:
    """The grouped rows of ``querysets`` (same columns, no common deal) in one UNION ALL, the
    figures of a stage added up across them; in pipeline and stage order."""
    from django.db import connection

    from opportunities.pagination import union_all_sql

    sql, params = union_all_sql(querysets)
    rows: dict[tuple, dict] = {}
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for values in cursor.fetchall():
                row = dict(zip((*keys, *figures), values, strict=True))
                key = tuple(row[name] for name in keys)
                if key not in rows:
                    rows[key] = row
                    continue
                for name in figures:
                    if row[name] is not None:
                        rows[key][name] = row[name] + (rows[key][name] or 0)
    return sorted(
        rows.values(),
        key=lambda row: (row["pipeline__order"], row["pipeline__name"], row["stage__order"], row["stage_id"]),
    )


def _by_close_date(deal: Opportunity):
    return (deal.expected_close_date, deal.pk)


def _by_closed_at_desc(deal: Opportunity):
    return (-deal.closed_at.timestamp(), -deal.pk)


def _by_idle_since(deal: Opportunity):
    return (deal.idle_since, deal.pk)


def _first_ids(querysets: dict, *, limit: int) -> dict:
    """The ids of the first ``limit`` rows of each queryset, in one query: each ordered, sliced
    SELECT stays as it is (and keeps its index) inside a UNION ALL."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    parts, params = [], []
    for position, queryset in enumerate(querysets.values()):
        try:
            sql, part_params = queryset.values_list("pk", flat=True)[:limit].query.sql_with_params()
        except EmptyResultSet:  # a condition that matches nothing (e.g. no idle limit in use)
            continue
        parts.append(f"SELECT {position} AS list, first_rows.pk FROM ({sql}) first_rows")  # noqa: S608 (ORM SQL)
        params.extend(part_params)
    ids: dict = {name: [] for name in querysets}
    names = list(querysets)
    if not parts:
        return ids
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for position, pk in cursor.fetchall():
            ids[names[position]].append(pk)
    return ids


DASHBOARD_EXPIRED_DAYS = 30


# --- pages: the opportunity list and its exports -------------------------------------------

# ?sort= keys of the list page (a leading "-" sorts descending) → the fields they order by.
OPPORTUNITY_SORTS = {
    "title": ("title",),
    "customer": ("customer__name",),
    "stage": ("pipeline__order", "pipeline__name", "stage__order"),
    "status": ("status",),
    "owner": ("owner__first_name", "owner__username"),
    "team": ("team__name",),
    "source": ("source__name",),
    "amount": ("amount_base",),
    "probability": ("probability",),
    "difficulty": ("difficulty",),
    "close": ("expected_close_date",),
    "activity": ("last_activity_at",),
    "created": ("created_at",),
    "closed": ("closed_at",),
}
OPPORTUNITY_DEFAULT_SORT = "-created"


class _InIds(Lookup):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``: the subquery
    runs once and the column's index can serve the match even inside an OR (an IN-subquery
    there becomes a filter on every row)."""

    lookup_name = "in_ids"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


class _UpperContains(Lookup):
    """``icontains`` (the same match: the term as plain characters, in any case, upper-cased by
    PostgreSQL) on a column stored upper-cased, so that a trigram index on the column serves it.

    A term with no word of three characters (华强, "ab", "50%") has no trigram: as a LIKE, the
    index would be read whole (a second for 1,000,000 deals), so it is matched with STRPOS, which
    the index does not serve, and PostgreSQL walks the user's deals instead.
    """

    lookup_name = "upper_contains"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        term = self.rhs
        if any(len(word) >= 3 for word in re.findall(r"[^\W_]+", term)):
            return f"{lhs} LIKE UPPER(%s)", [*lhs_params, f"%{connection.ops.prep_for_like_query(term)}%"]
        return f"STRPOS({lhs}, UPPER(%s)) > 0", [*lhs_params, term]


# Between the title, the customer's name and the contact's name in ``Opportunity.search_text``.
SEARCH_TEXT_SEPARATOR = "\n"


def opportunity_search_q(text: str) -> Q:
    """Every word must appear in the title, the customer's name or the contact's name (as the
    API's ``search``, whose words are split its own way: ``opportunity_search_terms_q``)."""
    return opportunity_search_terms_q(text.split()[:10])


def opportunity_search_terms_q(terms: list[str]) -> Q:
    """Every term must appear, in any case, in the title, the customer's name or the contact's
    name.

    On PostgreSQL a term is looked for in ``search_text``, the three upper-cased one per line
    (kept by triggers, opportunities/migrations/0008): one trigram index condition that
    PostgreSQL combines with the owner's or team's index. A term without a line break is in
    those lines exactly when it is in one of the three names, so the rows are the same. Matching
    names in their own tables first, a common word ("Harbor": 5,300 customers) meant probing the
    deals once per customer. A term with a line break (only a quoted API phrase can have one)
    and other databases look in the three fields themselves.
    """
    from django.db import connection

    from customers.models import Contact, Customer

    condition = Q()
    for term in terms:
        if connection.vendor == "postgresql" and SEARCH_TEXT_SEPARATOR not in term:
            condition &= Q(_UpperContains(F("search_text"), term))
            continue
        customers = Customer.objects.filter(name__icontains=term).order_by().values("pk")
        contacts = Contact.objects.filter(name__icontains=term).order_by().values("pk")
        condition &= (
            Q(title__icontains=term) | Q(_InIds(F("customer_id"), customers)) | Q(_InIds(F("contact_id"), contacts))
        )
    return condition


def opportunity_sort_fields(sort: str) -> tuple[str, list]:
    """The valid sort key (the default for anything else) and its ORDER BY, empty values last
    and the id as the tie-breaker, so pages never overlap."""
    from django.db.models import F

    key = sort.removeprefix("-")
    if key not in OPPORTUNITY_SORTS:
        sort = OPPORTUNITY_DEFAULT_SORT
        key = sort.removeprefix("-")
    descending = sort.startswith("-")
    fields = []
    for name in OPPORTUNITY_SORTS[key]:
        # NULLS LAST only where a value can be empty: a plain ORDER BY on a NOT NULL column can
        # walk an index (created_at, amount …) and stop after one page.
        nulls_last = True if _sort_path_is_nullable(name) else None
        fields.append(F(name).desc(nulls_last=nulls_last) if descending else F(name).asc(nulls_last=nulls_last))
    return sort, [*fields, "-pk" if descending else "pk"]


def _sort_path_is_nullable(path: str) -> bool:
    model, nullable = Opportunity, False
    for part in path.split("__"):
        field = model._meta.get_field(part)
        nullable = nullable or field.null
        model = field.related_model or model
    return nullable


class OpportunityListing:
    """The list page's reading of its query string: the FilterSet (the API's own), the search
    words, the sort, and the resulting queryset, annotated with ``is_stale`` and ``is_overdue``.

    ``queryset`` is every matching row in order (the exports read it). A page of the list is
    read as ``page_rows(offset, limit)`` and counted as ``count_up_to(limit)``: both go branch
    by branch of the visibility rule (a rep's own deals, their team's pool; a manager's teams),
    each branch in the sort's order on an index of its own, and merge the branches in SQL. An
    OR of the branches would make PostgreSQL read every visible row and sort them for one page.
    """

    def __init__(self, *, user, data, today: datetime.date | None = None):
        from django.db.models import BooleanField, Case, Value, When

        from crm.dates import company_today
        from opportunities.filtersets import OpportunityFilterSet

        today = today or company_today()
        self.search = (data.get("q") or "").strip()[:200]
        self.sort, order_by = opportunity_sort_fields(data.get("sort") or OPPORTUNITY_DEFAULT_SORT)
        self.filterset = OpportunityFilterSet(data, queryset=opportunities_visible_to(user=user))
        queryset = self.filterset.qs
        if self.search:
            queryset = queryset.filter(opportunity_search_q(self.search))
        flag = {"default": Value(False), "output_field": BooleanField()}
        self.queryset = queryset.annotate(
            is_stale=Case(When(opportunity_stale_q(today=today), then=Value(True)), **flag),
            is_overdue=Case(
                When(status=Opportunity.Status.OPEN, expected_close_date__lt=today, then=Value(True)), **flag
            ),
        ).order_by(*order_by)
        branches = [
            self._narrowed(branch).order_by(*order_by) for branch in Opportunity.objects.visible_to_by_branch(user)
        ]
        self.rows = BranchedRows(queryset=self.queryset, branches=branches)

    def _narrowed(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        queryset = self.filterset.filter_queryset(queryset)
        return queryset.filter(opportunity_search_q(self.search)) if self.search else queryset


def opportunity_handover_preview(*, by, from_owner) -> dict:
    """What ``opportunity_reassign_all`` would move from ``from_owner`` now: their open deals,
    as ``by`` sees them. ``hidden`` counts open deals of theirs ``by`` cannot see (in teams they
    do not manage): then the hand-over is for an administrator. Two queries."""
    deals = list(
        opportunities_visible_to(user=by)
        .filter(owner=from_owner, status=Opportunity.Status.OPEN)
        .order_by("expected_close_date", "pk")
    )
    total = Opportunity.objects.filter(owner=from_owner, status=Opportunity.Status.OPEN).count()
    return {
        "deals": deals,
        "count": len(deals),
        "hidden": total - len(deals),
        "amount": sum((deal.amount_base or 0) for deal in deals),
        "ids": ",".join(str(deal.pk) for deal in sorted(deals, key=lambda deal: deal.pk)),
    }
