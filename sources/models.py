from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel


class LeadSource(TimeStampedModel):
    """Where leads come from, and what they cost (money plus manpower)."""

    class Channel(models.TextChoices):
        TRADE_SHOW = "trade_show", _("Trade show")
        ONLINE_PLATFORM = "online_platform", _("Online platform")
        REFERRAL = "referral", _("Referral")
        WEBSITE = "website", _("Website")
        COLD_CALL = "cold_call", _("Cold call")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.OTHER)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    cost_money = models.DecimalField(
        _("money cost (CNY)"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    manpower_days = models.DecimalField(_("person-days"), max_digits=8, decimal_places=1, default=Decimal("0.0"))
    day_rate = models.DecimalField(_("day rate (CNY)"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="source_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(cost_money__gte=0) & Q(manpower_days__gte=0) & Q(day_rate__gte=0),
                name="source_costs_not_negative",
                violation_error_message=_("Costs cannot be negative."),
            ),
        ]

    @property
    def total_cost(self) -> Decimal:
        return (self.cost_money + self.manpower_days * self.day_rate).quantize(Decimal("0.01"))

    def __str__(self) -> str:
        return self.name
