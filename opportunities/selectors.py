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
            Attachment.objects.filter(opportunity=opportunity, stage_id__in=stage_ids).values_list("stage_id", flat=True)
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
