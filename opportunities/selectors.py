"""Reads of opportunities. Every user-dependent read starts from ``visible_to(user)``."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from opportunities.models import Activity, Attachment, Opportunity
from stages.models import Stage
from teams.visibility import attachment_visibility_q


def opportunities_visible_to(*, user) -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user).select_related(
        "customer", "contact", "pipeline", "stage", "owner", "team", "source", "lost_reason"
    )


def opportunity_get_for_user(*, user, pk) -> Opportunity:
    """One visible opportunity; anything else is Opportunity.DoesNotExist (a 404 for callers)."""
    return opportunities_visible_to(user=user).get(pk=pk)


def attachments_visible_to(*, user) -> QuerySet[Attachment]:
    return Attachment.objects.filter(attachment_visibility_q(user)).select_related("opportunity", "stage")


def opportunity_unmet_exit_criteria(
    *, opportunity: Opportunity, stage: Stage | None = None, target: Stage | None = None
) -> list[str]:
    """What is still missing before the deal may leave ``stage`` (default: its current stage)
    and, when ``target`` is given, pass every gated open stage between the two.

    Evidence for a stage counts if it was recorded while the deal was in that stage. For a stage
    the move jumps over, evidence recorded in the stage being left counts too: the rep provides
    it as they skip. So going back to an earlier stage and jumping forward again never bypasses
    a gate. Three queries, however many stages are passed.
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
    if any(item.requires_attachment for item in gated):
        with_files = set(
            Attachment.objects.filter(opportunity=opportunity, stage_id__in=stage_ids).values_list(
                "stage_id", flat=True
            )
        )
    if any(item.requires_tracking_number for item in gated):
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
    A fixed number of queries, however long the history.
    """
    from opportunities.models import Assignment, CloseDateChange, FieldChange, StageChange, StatusChange

    events: list[dict] = []
    initial_stage = None
    for change in StageChange.objects.filter(opportunity=opportunity).select_related("by", "from_stage", "to_stage"):
        if change.from_stage_id is None and initial_stage is None:
            initial_stage = change  # written by the create service: part of the "created" event
            continue
        events.append(
            {
                "type": "stage_changed",
                "at": change.at,
                "by": change.by,
                "from_stage": change.from_stage,
                "to_stage": change.to_stage,
                "probability_before": change.probability_before,
                "probability_after": change.probability_after,
                "note": change.note,
            }
        )
    # The create service stamps its history rows a moment before the row's own created_at.
    created_at = min(opportunity.created_at, initial_stage.at) if initial_stage else opportunity.created_at
    events.append(
        {
            "type": "created",
            "at": created_at,
            "by": opportunity.created_by,
            "stage": initial_stage.to_stage if initial_stage else None,
            "probability": initial_stage.probability_after if initial_stage else None,
        }
    )
    for row in Assignment.objects.filter(opportunity=opportunity).select_related(
        "by", "from_owner", "to_owner", "from_team", "to_team"
    ):
        events.append(
            {
                "type": "assigned",
                "at": row.at,
                "by": row.by,
                "from_owner": row.from_owner,
                "to_owner": row.to_owner,
                "from_team": row.from_team,
                "to_team": row.to_team,
                "reason": row.reason,
            }
        )
    for row in CloseDateChange.objects.filter(opportunity=opportunity).select_related("by"):
        events.append(
            {
                "type": "close_date_changed",
                "at": row.at,
                "by": row.by,
                "old_date": row.old_date,
                "new_date": row.new_date,
                "is_push": row.old_date is not None and row.new_date > row.old_date,
                "reason": row.reason,
            }
        )
    for row in FieldChange.objects.filter(opportunity=opportunity).select_related("by"):
        events.append(
            {
                "type": "field_changed",
                "at": row.at,
                "by": row.by,
                "field": row.field,
                "old_value": row.old_value,
                "new_value": row.new_value,
            }
        )
    for row in StatusChange.objects.filter(opportunity=opportunity).select_related("by", "lost_reason", "owner"):
        events.append(
            {
                "type": "reopened" if row.to_status == Opportunity.Status.OPEN else row.to_status,
                "at": row.at,
                "by": row.by,
                "from_status": row.from_status,
                "reason": row.reason,
                "lost_reason": row.lost_reason,
                "owner": row.owner,
            }
        )
    for activity in opportunity_activities(opportunity=opportunity):
        events.append({"type": "activity", "at": activity.occurred_at, "by": activity.author, "activity": activity})
    events.sort(key=lambda event: (event["at"], _TIMELINE_ORDER[event["type"]]))
    return events
