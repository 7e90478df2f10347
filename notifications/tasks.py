"""Thin Celery tasks: ids in, one service call, nothing else.

Every task is idempotent (see notifications.services), so a retry, a duplicate message or two
workers at once do no harm. The periodic ones are scheduled by django-celery-beat rows
(created by migration 0002, edited in admin).
"""

from celery import shared_task

from notifications import services


@shared_task(name="notifications.expire_overdue", soft_time_limit=1800, time_limit=1900)
def expire_overdue() -> dict:
    return services.job_expire_overdue().details


@shared_task(name="notifications.send_reminders", soft_time_limit=1800, time_limit=1900)
def send_reminders() -> dict:
    return services.job_send_reminders().details


@shared_task(name="notifications.stale_alerts", soft_time_limit=1800, time_limit=1900)
def stale_alerts() -> dict:
    return services.job_stale_alerts().details


@shared_task(name="notifications.sweep_outbox", soft_time_limit=50, time_limit=58)
def sweep_outbox() -> dict:
    return services.job_deliver_notifications(inline=False).details


@shared_task(name="notifications.deliver_outbox_message", soft_time_limit=120, time_limit=150)
def deliver_outbox_message(message_id: int) -> str:
    # Failures are not retried by Celery: the row records them with its backoff and the
    # every-minute sweep enqueues it again when it is due.
    return services.outbox_deliver(message_id=message_id)
