"""Reads of notifications, rules and job runs."""

from django.db.models import OuterRef, QuerySet

from notifications.models import JobRun, Notification, OutboxMessage, ReminderRule
from teams.selectors import RowCount


def notifications_for(*, user) -> QuerySet[Notification]:
    """The user's own notifications, newest first; the one scope every page uses."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).select_related(
        "opportunity", "opportunity__stage", "opportunity__owner"
    )


def notification_get_for_user(*, user, pk: int) -> Notification:
    """One of the user's notifications; anyone else's is Notification.DoesNotExist (a 404)."""
    return notifications_for(user=user).get(pk=pk)


def notifications_unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_unread_annotation() -> dict:
    """``notifications_unread_count`` as an annotation of a query of users
    (``unread_notifications``): the authentication backend loads it with the request's user, so
    the bell on every page asks no query of its own (``context_processors.notifications``)."""
    unread = Notification.objects.filter(user_id=OuterRef("pk"), read_at__isnull=True).order_by().values("pk")
    return {"unread_notifications": RowCount(unread)}


def reminder_rules_active(*, kind: str) -> list[ReminderRule]:
    return list(ReminderRule.objects.filter(kind=kind, is_active=True).select_related("pipeline").order_by("pk"))


def outbox_due_ids(*, now, limit: int) -> list[int]:
    """Queued e-mails whose time has come, plus rows whose sender died mid-send (lease expired)."""
    queued = OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)
    abandoned = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, lease_until__lt=now)
    return list((queued | abandoned).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def job_runs_latest() -> list[tuple[str, str, JobRun | None]]:
    """The last run of each periodic job (a fixed handful of jobs: one small query each)."""
    latest = []
    for job, label in JobRun.Job.choices:
        run = JobRun.objects.filter(job=job).order_by("-started_at", "-pk").first()
        latest.append((job, str(label), run))
    return latest
