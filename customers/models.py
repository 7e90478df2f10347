from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel
from customers.normalize import normalize_company, normalize_email, normalize_phone


class Customer(TimeStampedModel):
    """A customer company. A business card from a fair is a Contact of one of these."""

    name = models.CharField(_("company name"), max_length=200)
    name_normalized = models.CharField(max_length=200, editable=False, db_index=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]

    def save(self, *args, **kwargs):
        self.name_normalized = normalize_company(self.name)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class Contact(TimeStampedModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    phone_normalized = models.CharField(max_length=50, editable=False, db_index=True, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email_normalized = models.CharField(max_length=254, editable=False, db_index=True, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=100, blank=True)
    whatsapp = models.CharField(_("WhatsApp"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]

    def save(self, *args, **kwargs):
        self.email_normalized = normalize_email(self.email)
        self.phone_normalized = normalize_phone(self.phone)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.name} ({self.customer.name})" if self.customer_id else self.name
