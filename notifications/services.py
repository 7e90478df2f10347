"""Scheduled automation: expiry, close-date reminders, stale alerts, the e-mail outbox and the bell.

Every job here is safe to run twice at once:

- expiry goes through ``opportunities_expire_overdue`` (row locks with SKIP LOCKED);
- every e-mail and in-app notification is a row unique on its *due key* (rule, deal, close
  date, recipient …), inserted with ``ignore_conflicts``: a second run finds the key taken;
- an e-mail is sent only by the worker whose conditional UPDATE claimed it.

Jobs write rows first and enqueue delivery after commit; if the broker is down, the rows stay
queued and the every-minute sweep enqueues them later. Nothing here sends mail inside a
transaction.
"""

import datetime
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm.dates import company_today
from notifications.models import JobRun, Notification, OutboxMessage, ReminderRecord, ReminderRule
from notifications.selectors import outbox_due_ids, reminder_rules_active
from opportunities.models import Opportunity
from opportunities.services import opportunities_expire_overdue
from stages.models import Stage
from teams.models import Team, User

log = logging.getLogger(__name__)

OPEN = Opportunity.Status.OPEN
# A sender holds a claimed e-mail this long; after it, a worker that died mid-send is presumed
# dead and the row goes to another. Longer than any SMTP timeout.
SEND_LEASE = datetime.timedelta(minutes=10)
# The sweep leaves just-created rows to the task their creator enqueued.
SWEEP_GRACE = datetime.timedelta(seconds=60)
DIGEST_MAX_ROWS = 200
JOBRUN_KEEP = {JobRun.Job.DELIVER_NOTIFICATIONS: datetime.timedelta(days=2)}
JOBRUN_KEEP_DEFAULT = datetime.timedelta(days=180)


# --- job runs --------------------------------------------------------------------------------


@contextmanager
def job_run_record(*, job: str) -> Iterator[JobRun]:
    """Record one run of a periodic job: started, finished, rows touched, or the error."""
    run = JobRun.objects.create(job=job, started_at=timezone.now())
    try:
        yield run
    except Exception as exc:
        run.status = JobRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "rows", "details"])
        raise
    run.status = JobRun.Status.OK
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "rows", "details"])


def job_runs_prune(*, now: datetime.datetime | None = None) -> int:
    """Keep the every-minute sweep's record short and the nightly jobs' long."""
    now = now or timezone.now()
    deleted = 0
    for job, _label in JobRun.Job.choices:
        keep = JOBRUN_KEEP.get(job, JOBRUN_KEEP_DEFAULT)
        deleted += JobRun.objects.filter(job=job, started_at__lt=now - keep).delete()[0]
    return deleted


# --- recipients and rendering ----------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    user: User | None
    email: str
    language: str

    @property
    def key(self) -> str:
        if self.user is not None:
            return f"u{self.user.pk}"
        return "e" + hashlib.sha256(self.email.lower().encode()).hexdigest()[:24]


def recipient_language(user: User | None) -> str:
    """The user's own language if the site offers it, else the site's default."""
    code = (getattr(user, "language", "") or "").strip()
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def _user_recipient(user: User) -> Recipient:
    return Recipient(user=user, email=(user.email or "").strip(), language=recipient_language(user))


def _admins() -> list[User]:
    return list(User.objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True).order_by("pk"))


def _managers_by_team(team_ids: Iterable[int]) -> dict[int, list[User]]:
    through = Team.managers.through
    rows = through.objects.filter(team_id__in=set(team_ids), user__is_active=True).select_related("user")
    managers: dict[int, list[User]] = defaultdict(list)
    for row in rows.order_by("user_id"):
        managers[row.team_id].append(row.user)
    return managers


def _rule_recipients(
    rule: ReminderRule, opportunity: Opportunity, managers: dict[int, list[User]], admins: list[User]
) -> list[Recipient]:
    users: list[User] = []
    if rule.to_owner and opportunity.owner_id and opportunity.owner.is_active:
        users.append(opportunity.owner)
    if rule.to_managers:
        users.extend(managers.get(opportunity.team_id, []))
    if rule.to_admins:
        users.extend(admins)
    recipients: dict[str, Recipient] = {}
    for user in users:
        recipient = _user_recipient(user)
        recipients.setdefault(recipient.key, recipient)
    known_emails = {r.email.lower() for r in recipients.values() if r.email}
    for email in rule.extra_email_list():
        if email not in known_emails:
            recipient = Recipient(user=None, email=email, language=settings.LANGUAGE_CODE)
            recipients.setdefault(recipient.key, recipient)
    return list(recipients.values())


def opportunity_link(opportunity_id: int) -> str:
    return settings.SITE_URL + reverse("notifications:opportunity", args=[opportunity_id])


def email_render(*, template: str, language: str, context: dict) -> tuple[str, str, str]:
    """Subject, plain text and HTML of an e-mail in ``language`` (zh-hans or en templates)."""
    names = (f"notifications/email/{language}/{template}", f"notifications/email/en/{template}")
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, "language": language, **context}
        subject = render_to_string([f"{name}_subject.txt" for name in names], context)
        text = render_to_string([f"{name}.txt" for name in names], context)
        html = render_to_string([f"{name}.html" for name in names], context)
    subject = " ".join(subject.split())[:255]
    return subject, text, html


def _outbox_row(
    *, due_key: str, kind: str, recipient: Recipient, opportunity_id: int | None, template: str, context: dict
) -> OutboxMessage | None:
    if not recipient.email:
        return None
    subject, text, html = email_render(
        template=template, language=recipient.language, context={"recipient": recipient.user, **context}
    )
    return OutboxMessage(
        due_key=due_key,
        kind=kind,
        recipient=recipient.user,
        to_address=recipient.email,
        language=recipient.language,
        opportunity_id=opportunity_id,
        subject=subject,
        body_text=text,
        body_html=html,
    )


def _save_and_enqueue(outbox: list[OutboxMessage], notifications: list[Notification]) -> int:
    """Insert the rows (a due key already taken is skipped) and enqueue delivery after commit.

    Returns how many e-mails are queued for these due keys.
    """
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    if not outbox:
        return 0
    OutboxMessage.objects.bulk_create(outbox, ignore_conflicts=True)
    ids = list(
        OutboxMessage.objects.filter(
            due_key__in=[m.due_key for m in outbox], status=OutboxMessage.Status.QUEUED
        ).values_list("pk", flat=True)
    )
    outbox_enqueue_on_commit(ids=ids)
    return len(ids)


# --- the outbox ------------------------------------------------------------------------------


def _enqueue_deliveries(ids: list[int]) -> int:
    from notifications.tasks import deliver_outbox_message

    for done, message_id in enumerate(ids):
        try:
            deliver_outbox_message.delay(message_id)
        except Exception:
            # The rows are saved and queued: the every-minute sweep enqueues them once the broker is back.
            log.warning("Broker unavailable: %d e-mail(s) left for the sweep", len(ids) - done, exc_info=True)
            return done
    return len(ids)


def outbox_enqueue_on_commit(*, ids: list[int]) -> None:
    """Enqueue delivery of saved outbox rows once the transaction that wrote them commits."""
    if ids:
        transaction.on_commit(partial(_enqueue_deliveries, list(ids)), robust=True)


def outbox_claim(*, message_id: int, now: datetime.datetime | None = None) -> bool:
    """Take an e-mail for sending with one conditional UPDATE: exactly one caller wins it."""
    now = now or timezone.now()
    claimable = Q(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now) | Q(
        status=OutboxMessage.Status.SENDING, lease_until__lt=now
    )
    claimed = OutboxMessage.objects.filter(claimable, pk=message_id).update(
        status=OutboxMessage.Status.SENDING, lease_until=now + SEND_LEASE, attempts=F("attempts") + 1, updated_at=now
    )
    return claimed == 1


def outbox_retry_delay(*, attempts: int) -> datetime.timedelta:
    """Exponential backoff: base, 2×base, 4×base … after the 1st, 2nd, 3rd failed attempt."""
    return datetime.timedelta(seconds=settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


def outbox_deliver(*, message_id: int) -> str:
    """Send one outbox e-mail if it is due and nobody else is sending it.

    Returns ``sent``, ``retry`` (failed, queued again after a backoff), ``failed`` (gave up
    after NOTIFICATIONS_MAX_ATTEMPTS; an admin can re-send it) or ``skipped`` (not due, or
    claimed by another worker, or already sent).
    """
    if not outbox_claim(message_id=message_id):
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to_address]
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send()
    except Exception as exc:
        # SMTP refusals, timeouts, a closed port …: record it and try again later, never lose the row.
        now = timezone.now()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            fields = {"status": OutboxMessage.Status.FAILED}
            outcome = "failed"
        else:
            fields = {
                "status": OutboxMessage.Status.QUEUED,
                "next_attempt_at": now + outbox_retry_delay(attempts=message.attempts),
            }
            outcome = "retry"
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.SENDING).update(
            lease_until=None, last_error=error, updated_at=now, **fields
        )
        log.warning(
            "E-mail %s to %s: attempt %d %s: %s", message.pk, message.to_address, message.attempts, outcome, error
        )
        return outcome
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=now, lease_until=None, last_error="", updated_at=now
    )
    return "sent"


def outbox_deliver_due(*, limit: int = 500) -> dict[str, int]:
    """Send every due e-mail in this process (the ``deliver_notifications`` command)."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for message_id in outbox_due_ids(now=timezone.now(), limit=limit):
        counts[outbox_deliver(message_id=message_id)] += 1
    return counts


def outbox_sweep(*, limit: int = 1000) -> int:
    """Enqueue due e-mails whose task was lost (broker down at creation, a retry that is due,
    a worker that died mid-send). Returns how many were enqueued."""
    ids = outbox_due_ids(now=timezone.now() - SWEEP_GRACE, limit=limit)
    return _enqueue_deliveries(ids)


@transaction.atomic
def outbox_requeue(*, ids: Iterable[int], by: User) -> int:
    """Admins re-send e-mails (failed ones, typically): queued again now, attempts from zero."""
    if not (by and by.is_active and (by.is_staff or by.is_superuser)):
        raise PermissionDenied(gettext("Only an administrator can re-send e-mails."))
    now = timezone.now()
    rows = OutboxMessage.objects.filter(pk__in=list(ids)).exclude(status=OutboxMessage.Status.SENDING)
    pks = list(rows.values_list("pk", flat=True))
    OutboxMessage.objects.filter(pk__in=pks).update(
        status=OutboxMessage.Status.QUEUED, attempts=0, next_attempt_at=now, lease_until=None, updated_at=now
    )
    outbox_enqueue_on_commit(ids=pks)
    return len(pks)


# --- close-date reminders --------------------------------------------------------------------


def reminders_send_due(*, today: datetime.date | None = None, batch_size: int = 500) -> dict[str, int]:
    """Remind about each open deal once per (rule, deal, expected close date).

    A deal is due for a rule from ``days_before`` days before its close date up to the date
    itself, so a run that was missed for a few days catches up on the next one; a date that
    has already passed gets nothing; a pushed date is a new key, so it is reminded again.
    Selection is one query per batch (deals with no ReminderRecord for this rule and date).
    """
    today = today or company_today()
    counts = {"reminders": 0, "emails": 0, "notifications": 0}
    rules = reminder_rules_active(kind=ReminderRule.Kind.CLOSE_DATE)
    admins = _admins() if any(rule.to_admins for rule in rules) else []
    for rule in rules:
        due = Opportunity.objects.filter(
            status=OPEN,
            expected_close_date__gte=today,
            expected_close_date__lte=today + datetime.timedelta(days=rule.days_before),
        ).exclude(
            Exists(
                ReminderRecord.objects.filter(
                    rule=rule, opportunity=OuterRef("pk"), close_date=OuterRef("expected_close_date")
                )
            )
        )
        if rule.pipeline_id:
            due = due.filter(pipeline_id=rule.pipeline_id)
        last_pk = 0
        while True:
            batch = list(
                due.filter(pk__gt=last_pk)
                .select_related("owner", "stage", "pipeline", "customer")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            with transaction.atomic():
                batch_counts = _reminders_write(rule=rule, deals=batch, today=today, admins=admins)
            for key, value in batch_counts.items():
                counts[key] += value
            if len(batch) < batch_size:
                break
    return counts


def _reminders_write(*, rule: ReminderRule, deals: list[Opportunity], today, admins: list[User]) -> dict[str, int]:
    managers = _managers_by_team(deal.team_id for deal in deals) if rule.to_managers else {}
    records, outbox, notifications = [], [], []
    for deal in deals:
        close_date = deal.expected_close_date
        records.append(ReminderRecord(rule=rule, opportunity=deal, close_date=close_date))
        base_key = f"reminder:{rule.pk}:{deal.pk}:{close_date.isoformat()}"
        days_left = (close_date - today).days
        for recipient in _rule_recipients(rule, deal, managers, admins):
            context = {"opportunity": deal, "days_left": days_left, "link": opportunity_link(deal.pk)}
            row = _outbox_row(
                due_key=f"{base_key}:{recipient.key}",
                kind=OutboxMessage.Kind.REMINDER,
                recipient=recipient,
                opportunity_id=deal.pk,
                template="reminder",
                context=context,
            )
            if row is not None:
                outbox.append(row)
            if recipient.user is not None:
                notifications.append(
                    Notification(
                        user=recipient.user,
                        kind=Notification.Kind.REMINDER,
                        opportunity=deal,
                        due_key=f"{base_key}:{recipient.key}",
                        data={"close_date": close_date.isoformat(), "days_left": days_left},
                    )
                )
    ReminderRecord.objects.bulk_create(records, ignore_conflicts=True)
    queued = _save_and_enqueue(outbox, notifications)
    return {"reminders": len(records), "emails": queued, "notifications": len(notifications)}


# --- expiry ------------------------------------------------------------------------------------


def expiry_reason() -> str:
    """Stored on the deal and its history row, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Expired — not confirmed by the expected close date")


def expiry_run(*, today: datetime.date | None = None, batch_size: int = 2000, run_key: str = "") -> dict[str, int]:
    """Expire overdue deals (see ``opportunities_expire_overdue``), tell each owner and the
    team's managers in-app in the same transaction as each batch, then send one digest e-mail
    per recipient for the whole run, as the active expiry-digest rules say."""
    today = today or company_today()
    run_key = run_key or timezone.now().strftime("%Y%m%dT%H%M%S%f")
    expired_ids: list[int] = []
    notified = 0

    def notify_batch(batch: list[tuple[int, int | None]]) -> None:
        nonlocal notified
        ids = [pk for pk, _owner in batch]
        expired_ids.extend(ids)
        notified += _expired_notify_in_app(ids)

    expired = opportunities_expire_overdue(
        today=today, batch_size=batch_size, reason=expiry_reason(), on_batch=notify_batch
    )
    digests = _expiry_digests(expired_ids=expired_ids, run_key=run_key) if expired_ids else 0
    return {"expired": expired, "notifications": notified, "digests": digests}


def _expired_notify_in_app(ids: list[int]) -> int:
    deals = list(Opportunity.objects.filter(pk__in=ids).values_list("pk", "owner_id", "team_id", "expected_close_date"))
    managers = _managers_by_team(team_id for _pk, _owner, team_id, _date in deals)
    active_owners = set(
        User.objects.filter(pk__in={owner for _pk, owner, _t, _d in deals if owner}, is_active=True).values_list(
            "pk", flat=True
        )
    )
    rows = []
    for pk, owner_id, team_id, close_date in deals:
        users = {owner_id} & active_owners
        users |= {manager.pk for manager in managers.get(team_id, [])}
        for user_id in sorted(users):
            rows.append(
                Notification(
                    user_id=user_id,
                    kind=Notification.Kind.EXPIRED,
                    opportunity_id=pk,
                    due_key=f"expired:{pk}:{close_date.isoformat()}:u{user_id}",
                    data={"close_date": close_date.isoformat()},
                )
            )
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return len(rows)


def _expiry_digests(*, expired_ids: list[int], run_key: str) -> int:
    rules = reminder_rules_active(kind=ReminderRule.Kind.EXPIRY_DIGEST)
    if not rules:
        return 0
    deals = list(
        Opportunity.objects.filter(pk__in=expired_ids)
        .select_related("owner", "stage", "pipeline", "customer", "team")
        .order_by("owner_id", "expected_close_date", "pk")
    )
    managers = _managers_by_team(deal.team_id for deal in deals) if any(r.to_managers for r in rules) else {}
    admins = _admins() if any(r.to_admins for r in rules) else []
    # One e-mail per recipient per run, whatever the number of deals or rules.
    per_recipient: dict[str, tuple[Recipient, dict[int, Opportunity]]] = {}
    for rule in rules:
        for deal in deals:
            if rule.pipeline_id and deal.pipeline_id != rule.pipeline_id:
                continue
            for recipient in _rule_recipients(rule, deal, managers, admins):
                per_recipient.setdefault(recipient.key, (recipient, {}))[1][deal.pk] = deal
    outbox = []
    for key, (recipient, deals_by_pk) in per_recipient.items():
        listed = list(deals_by_pk.values())
        context = {
            "deals": [(deal, opportunity_link(deal.pk)) for deal in listed[:DIGEST_MAX_ROWS]],
            "total": len(listed),
            "more": max(len(listed) - DIGEST_MAX_ROWS, 0),
            "notifications_link": settings.SITE_URL + reverse("notifications:list"),
        }
        row = _outbox_row(
            due_key=f"expiry:{run_key}:{key}",
            kind=OutboxMessage.Kind.EXPIRY_DIGEST,
            recipient=recipient,
            opportunity_id=None,
            template="expiry_digest",
            context=context,
        )
        if row is not None:
            outbox.append(row)
    with transaction.atomic():
        return _save_and_enqueue(outbox, [])


# --- stale deals -------------------------------------------------------------------------------


def stale_alerts_send(*, now: datetime.datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Tell the owner of each open deal idle longer than its stage's rotting days, once per
    idle period: the period starts at the last activity (or entering the stage), so new
    work followed by new idleness alerts again, and a deal left idle is not alerted daily."""
    now = now or timezone.now()
    counts = {"alerts": 0, "emails": 0}
    stages = list(Stage.objects.filter(kind=Stage.Kind.OPEN, rotting_days__gt=0).values_list("pk", "rotting_days"))
    if not stages:
        return counts
    touch = Greatest(Coalesce("last_activity_at", "stage_entered_at"), "stage_entered_at")
    idle = Q(pk__in=[])
    for stage_id, days in stages:
        idle |= Q(stage_id=stage_id, touched_at__lt=now - datetime.timedelta(days=days))
    stale = (
        Opportunity.objects.filter(status=OPEN, owner__isnull=False, owner__is_active=True)
        .annotate(touched_at=touch)
        .filter(idle)
        .exclude(
            Exists(
                Notification.objects.filter(
                    kind=Notification.Kind.STALE, opportunity=OuterRef("pk"), created_at__gte=OuterRef("touched_at")
                )
            )
        )
    )
    last_pk = 0
    while True:
        batch = list(
            stale.filter(pk__gt=last_pk).select_related("owner", "stage", "customer").order_by("pk")[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1].pk
        outbox, notifications = [], []
        for deal in batch:
            recipient = _user_recipient(deal.owner)
            key = f"stale:{deal.pk}:{int(deal.touched_at.timestamp())}:{recipient.key}"
            idle_days = (now - deal.touched_at).days
            notifications.append(
                Notification(
                    user=deal.owner,
                    kind=Notification.Kind.STALE,
                    opportunity=deal,
                    due_key=key,
                    created_at=now,
                    data={"idle_days": idle_days, "stage": deal.stage.name, "rotting_days": deal.stage.rotting_days},
                )
            )
            row = _outbox_row(
                due_key=key,
                kind=OutboxMessage.Kind.STALE,
                recipient=recipient,
                opportunity_id=deal.pk,
                template="stale",
                context={"opportunity": deal, "idle_days": idle_days, "link": opportunity_link(deal.pk)},
            )
            if row is not None:
                outbox.append(row)
        with transaction.atomic():
            counts["emails"] += _save_and_enqueue(outbox, notifications)
        counts["alerts"] += len(notifications)
        if len(batch) < batch_size:
            break
    return counts


# --- in-app notifications ---------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, by: User) -> Notification:
    """Only the recipient marks their notification read (others never see it: a 404 in views)."""
    if notification.user_id != by.pk:
        raise PermissionDenied(gettext("This notification is not yours."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# --- the periodic jobs (tasks and management commands call these) ------------------------------


def job_expire_overdue(*, today: datetime.date | None = None) -> JobRun:
    with job_run_record(job=JobRun.Job.EXPIRE_OVERDUE) as run:
        result = expiry_run(today=today, run_key=str(run.pk))
        run.rows, run.details = result["expired"], result
    return run


def job_send_reminders(*, today: datetime.date | None = None) -> JobRun:
    with job_run_record(job=JobRun.Job.SEND_REMINDERS) as run:
        result = reminders_send_due(today=today)
        run.rows, run.details = result["reminders"], result
    return run


def job_stale_alerts() -> JobRun:
    with job_run_record(job=JobRun.Job.STALE_ALERTS) as run:
        result = stale_alerts_send()
        run.rows, run.details = result["alerts"], result
    return run


def job_deliver_notifications(*, inline: bool) -> JobRun:
    """``inline``: send due e-mails in this process (the command); otherwise enqueue them for
    the workers (the every-minute periodic sweep)."""
    with job_run_record(job=JobRun.Job.DELIVER_NOTIFICATIONS) as run:
        if inline:
            result = outbox_deliver_due()
            run.rows = result["sent"] + result["retry"] + result["failed"]
        else:
            result = {"enqueued": outbox_sweep()}
            run.rows = result["enqueued"]
        result["pruned_job_runs"] = job_runs_prune()
        run.details = result
    return run
