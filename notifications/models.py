"""Reminder rules, the e-mail outbox, in-app notifications and the record of job runs.

Every notification is a row before anything is sent: an ``OutboxMessage`` for an e-mail, a
``Notification`` for the bell. Both are unique on a *due key* that names the event they are
for (rule, deal, close date, recipient …), so a second run or a second worker cannot create
a twin; the database refuses it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import TimeStampedModel


class ReminderRule(TimeStampedModel):
    """Who is told about a deal's close date, and when. Kept by admins."""

    class Kind(models.TextChoices):
        CLOSE_DATE = "close_date", _("Close-date reminder")
        EXPIRY_DIGEST = "expiry_digest", _("Expiry digest")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CLOSE_DATE)
    days_before = models.PositiveSmallIntegerField(
        _("days before the close date"),
        default=7,
        help_text=_("Close-date reminders only: sent this many days before the expected close date."),
    )
    to_owner = models.BooleanField(_("to the owner"), default=True)
    to_managers = models.BooleanField(_("to the team's managers"), default=False)
    to_admins = models.BooleanField(_("to the administrators"), default=False)
    extra_emails = models.TextField(
        _("extra e-mail addresses"), blank=True, help_text=_("One address per line, or separated by commas.")
    )
    pipeline = models.ForeignKey(
        "stages.Pipeline",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pipeline"),
        help_text=_("Empty: every pipeline."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["kind", "-days_before", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(days_before__lte=365), name="reminder_rule_days_before_max_365"),
        ]

    def __str__(self) -> str:
        return self.name

    def extra_email_list(self) -> list[str]:
        raw = self.extra_emails.replace(",", "\n").replace(";", "\n")
        return sorted({line.strip().lower() for line in raw.splitlines() if line.strip()})


class ReminderRecord(models.Model):
    """A close-date reminder that is done: one per (rule, deal, close date).

    Pushing the date makes a new key, so the reminder is due again for the new date.
    """

    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="records")
    opportunity = models.ForeignKey("opportunities.Opportunity", on_delete=models.CASCADE, related_name="+")
    close_date = models.DateField(_("close date"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "opportunity", "close_date"], name="reminder_once_per_rule_deal_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.opportunity_id}:{self.close_date}"


class OutboxMessage(TimeStampedModel):
    """An e-mail waiting to be sent, being sent, sent or failed: nothing is sent that is not here first."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Close-date reminder")
        EXPIRY_DIGEST = "expiry_digest", _("Expiry digest")
        STALE = "stale", _("Stale deal")

    due_key = models.CharField(_("due key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    to_address = models.EmailField(pgettext_lazy("e-mail", "to"), max_length=254)
    language = models.CharField(_("language"), max_length=10)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opportunity"),
    )
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("plain-text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # While a worker sends, the row is leased; a worker that died mid-send leaves an expired
    # lease, and the sweep hands the row to another.
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox e-mail")
        verbose_name_plural = _("outbox e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_status_next")]

    def __str__(self) -> str:
        return f"{self.to_address}: {self.subject}"


class Notification(models.Model):
    """An in-app notification (the bell). Its text is rendered when shown, in the reader's language."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Close-date reminder")
        EXPIRED = "expired", _("Expired")
        STALE = "stale", _("Stale deal")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.CASCADE, related_name="+", verbose_name=_("opportunity")
    )
    due_key = models.CharField(_("due key"), max_length=200, unique=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_read"),
            models.Index(fields=["opportunity", "kind", "created_at"], name="notification_opp_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.opportunity_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class JobRun(models.Model):
    """One run of a periodic job: when it ran, how it ended and how many rows it touched."""

    class Job(models.TextChoices):
        EXPIRE_OVERDUE = "expire_overdue", _("Expire overdue opportunities")
        SEND_REMINDERS = "send_reminders", _("Close-date reminders")
        STALE_ALERTS = "stale_alerts", _("Stale-deal alerts")
        DELIVER_NOTIFICATIONS = "deliver_notifications", _("Deliver queued e-mails")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("OK")
        FAILED = "failed", _("Failed")

    job = models.CharField(_("job"), max_length=40, choices=Job.choices)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    rows = models.PositiveIntegerField(_("rows touched"), default=0)
    details = models.JSONField(_("details"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "started_at"], name="jobrun_job_started")]

    def __str__(self) -> str:
        return f"{self.get_job_display()} @ {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        return None if self.finished_at is None else self.finished_at - self.started_at
