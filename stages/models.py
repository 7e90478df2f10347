from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel


class Pipeline(TimeStampedModel):
    """An ordered sales process, e.g. one per product line. Company data, never hard-coded."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    expiry_grace_days = models.PositiveIntegerField(
        _("expiry grace days"),
        default=0,
        help_text=_("Days after the expected close date before the nightly job closes an open deal as expired."),
    )

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def first_open_stage(self) -> "Stage | None":
        return self.stages.filter(kind=Stage.Kind.OPEN).order_by("order", "id").first()

    def won_stage(self) -> "Stage | None":
        return self.stages.filter(kind=Stage.Kind.WON).first()

    def lost_stage(self) -> "Stage | None":
        return self.stages.filter(kind=Stage.Kind.LOST).order_by("order", "id").first()


class Stage(TimeStampedModel):
    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    # Opportunity fields a stage may require before a deal leaves it.
    REQUIRED_FIELD_CHOICES = {
        "amount": _("Amount"),
        "contact": _("Contact"),
        "description": _("Description"),
    }

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages", verbose_name=_("pipeline"))
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    probability = models.PositiveSmallIntegerField(
        _("default win probability (%)"), default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)
    rotting_days = models.PositiveIntegerField(
        _("idle limit (days)"),
        null=True,
        blank=True,
        help_text=_("A deal with no activity for this many days in this stage is marked stale."),
    )
    requires_attachment = models.BooleanField(
        _("needs an attachment to leave"),
        default=False,
        help_text=_("A file (e.g. a sample photo) must be attached in this stage before the deal moves on."),
    )
    requires_tracking_number = models.BooleanField(_("needs a courier tracking number to leave"), default=False)
    required_fields = models.JSONField(
        _("fields required to leave"),
        default=list,
        blank=True,
        help_text=_("Opportunity fields that must be filled before the deal moves on: amount, contact, description."),
    )
    guidance = models.TextField(_("guidance"), blank=True, help_text=_("What the rep should do in this stage."))

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique_in_pipeline"),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=100), name="stage_probability_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name} / {self.name}" if self.pipeline_id else self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN

    @property
    def has_exit_criteria(self) -> bool:
        return self.requires_attachment or self.requires_tracking_number or bool(self.required_fields)
