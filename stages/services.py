"""Rules of pipeline configuration, shared by the admin and every other caller."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from stages.models import Pipeline, Stage


def pipeline_check_stage_kinds(*, kinds: Iterable[str]) -> None:
    """A pipeline needs exactly one won stage and at least one lost stage (and one open)."""
    kinds = list(kinds)
    errors = []
    won = kinds.count(Stage.Kind.WON)
    if won != 1:
        errors.append(_("A pipeline needs exactly one won stage (it has %(count)d).") % {"count": won})
    if kinds.count(Stage.Kind.LOST) < 1:
        errors.append(_("A pipeline needs at least one lost stage."))
    if kinds.count(Stage.Kind.OPEN) < 1:
        errors.append(_("A pipeline needs at least one open stage."))
    if errors:
        raise ValidationError(errors)


def stage_check_deletable(*, stage: Stage) -> None:
    """A stage that any opportunity, history row or activity refers to cannot be deleted."""
    from opportunities.models import Activity, Opportunity, StageChange

    in_use = Opportunity.objects.filter(stage=stage).count()
    if in_use:
        raise ValidationError(
            ngettext(
                "The stage “%(stage)s” holds %(count)d opportunity; move it to another stage first.",
                "The stage “%(stage)s” holds %(count)d opportunities; move them to another stage first.",
                in_use,
            )
            % {"stage": stage.name, "count": in_use}
        )
    if (
        StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).exists()
        or Activity.objects.filter(stage=stage).exists()
    ):
        raise ValidationError(
            _("The stage “%(stage)s” appears in the history of past deals and cannot be deleted.")
            % {"stage": stage.name}
        )


def stage_check_required_fields(*, fields) -> list[str]:
    if not isinstance(fields, list) or not all(isinstance(item, str) for item in fields):
        raise ValidationError(_("Required fields must be a list of field names."))
    unknown = [item for item in fields if item not in Stage.REQUIRED_FIELD_CHOICES]
    if unknown:
        raise ValidationError(
            _("Unknown fields: %(fields)s. Choose from: %(choices)s.")
            % {"fields": ", ".join(unknown), "choices": ", ".join(Stage.REQUIRED_FIELD_CHOICES)}
        )
    return fields


@transaction.atomic
def pipeline_create(*, name: str, stages: list[dict]) -> Pipeline:
    """Create a pipeline with its ordered stages in one step (used by the demo data and tests)."""
    pipeline_check_stage_kinds(kinds=[spec.get("kind", Stage.Kind.OPEN) for spec in stages])
    pipeline = Pipeline.objects.create(name=name)
    for order, spec in enumerate(stages, start=1):
        spec = dict(spec)
        stage_check_required_fields(fields=spec.get("required_fields", []))
        Stage.objects.create(pipeline=pipeline, order=order * 10, **spec)
    return pipeline
