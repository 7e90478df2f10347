from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel


class IncentivePolicy(TimeStampedModel):
    """How a won deal is paid: base reward × the deal's difficulty coefficient, plus bonuses.

    Policies are never edited retroactively in effect: each has the date it applies from, and a
    deal is paid by the policy in force on the day it was won (company time zone), so last
    quarter's payouts do not change when this quarter's policy is raised.
    """

    base_reward = models.DecimalField(
        _("base reward"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("1000.00"),
        help_text=_("Paid for a won deal of difficulty 1.00; scaled by the deal's difficulty coefficient."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    new_customer_bonus = models.DecimalField(
        _("new-customer bonus"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Added (not scaled) when the deal is flagged as a new customer."),
    )
    new_product_bonus = models.DecimalField(
        _("new-product bonus"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Added (not scaled) when the deal is flagged as a new product."),
    )
    effective_from = models.DateField(
        _("effective from"),
        unique=True,
        help_text=_(
            "Deals won on or after this day (company time zone) are paid by this policy, until a later one applies."
        ),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("incentive policy")
        verbose_name_plural = _("incentive policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_reward__gte=0) & Q(new_customer_bonus__gte=0) & Q(new_product_bonus__gte=0),
                name="incentive_amounts_not_negative",
                violation_error_message=_("Rewards and bonuses cannot be negative."),
            ),
        ]

    def clean(self):
        # Payouts of one period are added up, so every policy pays in the same currency.
        others = IncentivePolicy.objects.exclude(pk=self.pk).exclude(currency=(self.currency or "").upper())
        if others.exists():
            raise ValidationError(
                {
                    "currency": _("All incentive policies must use the same currency; the others use %(currency)s.")
                    % {"currency": others.values_list("currency", flat=True).first()}
                }
            )

    def save(self, *args, **kwargs):
        self.currency = (self.currency or "CNY").upper()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return _("%(base)s %(currency)s × difficulty, from %(date)s") % {
            "base": self.base_reward,
            "currency": self.currency,
            "date": self.effective_from,
        }
