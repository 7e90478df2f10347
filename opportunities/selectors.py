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


def opportunity_unmet_exit_criteria(*, opportunity: Opportunity, stage: Stage | None = None) -> list[str]:
    """What is still missing before the deal may leave ``stage`` (default: its current stage).

    Evidence counts only if it was recorded while the deal was in that stage.
    """
    stage = stage or opportunity.stage
    missing: list[str] = []
    if stage.requires_attachment and not Attachment.objects.filter(opportunity=opportunity, stage=stage).exists():
        missing.append(_("Attach a file (e.g. a sample photo) in the stage “%(stage)s”.") % {"stage": stage.name})
    if (
        stage.requires_tracking_number
        and not Activity.objects.filter(opportunity=opportunity, stage=stage).exclude(tracking_number="").exists()
    ):
        missing.append(_("Enter a courier tracking number in the stage “%(stage)s”.") % {"stage": stage.name})
    for field in stage.required_fields or []:
        label = Stage.REQUIRED_FIELD_CHOICES.get(field)
        if label is None:
            continue
        value = getattr(opportunity, f"{field}_id" if field == "contact" else field)
        if value in (None, ""):
            missing.append(_("Fill in “%(field)s”.") % {"field": label})
    return missing
