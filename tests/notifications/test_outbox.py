import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crm.dates import company_today
from notifications.models import OutboxMessage
from notifications.services import (
    job_deliver_notifications,
    outbox_deliver,
    outbox_deliver_due,
    outbox_requeue,
    reminders_send_due,
)
from tests.factories import OpportunityFactory, OutboxMessageFactory, ReminderRuleFactory
from tests.notifications.helpers import celery_broker, requires_postgres, run_at_once


def reload(message):
    return OutboxMessage.objects.get(pk=message.pk)


@pytest.fixture
def smtp(settings):
    def point_at(host, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = host, port, 5
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""

    return point_at


@pytest.mark.django_db
def test_it_sends_a_queued_email_once_with_its_html_part():
    message = OutboxMessageFactory(subject="Hello there")
    assert outbox_deliver(message_id=message.pk) == "sent"
    assert outbox_deliver(message_id=message.pk) == "skipped"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Hello there"
    assert mail.outbox[0].alternatives[0].mimetype == "text/html"
    message = reload(message)
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert message.sent_at is not None


@pytest.mark.django_db
def test_it_does_not_send_before_the_next_attempt_time():
    message = OutboxMessageFactory(next_attempt_at=timezone.now() + datetime.timedelta(minutes=5))
    assert outbox_deliver(message_id=message.pk) == "skipped"
    assert mail.outbox == []


@pytest.mark.django_db
def test_it_retries_with_backoff_on_an_smtp_refusal_then_marks_failed(settings, smtp, smtp_refusing):
    smtp(*smtp_refusing)
    settings.NOTIFICATIONS_MAX_ATTEMPTS, settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 3, 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        message = OutboxMessageFactory()
        assert outbox_deliver(message_id=message.pk) == "retry"
        first = reload(message)
        assert (first.status, first.attempts) == ("queued", 1)
        assert "451" in first.last_error and "SMTPSenderRefused" in first.last_error
        assert first.next_attempt_at == start + datetime.timedelta(seconds=60)
        assert outbox_deliver(message_id=message.pk) == "skipped"  # not due yet

        clock.shift(datetime.timedelta(seconds=61))
        assert outbox_deliver(message_id=message.pk) == "retry"
        second = reload(message)
        assert second.next_attempt_at == timezone.now() + datetime.timedelta(seconds=120)  # doubled

        clock.shift(datetime.timedelta(seconds=121))
        assert outbox_deliver(message_id=message.pk) == "failed"
    failed = reload(message)
    assert (failed.status, failed.attempts, failed.lease_until) == ("failed", 3, None)
    assert outbox_deliver(message_id=message.pk) == "skipped"  # failed rows wait for an admin


@pytest.mark.django_db
def test_it_retries_when_nothing_listens_on_the_smtp_port(smtp, closed_port):
    smtp("127.0.0.1", closed_port)
    message = OutboxMessageFactory()
    assert outbox_deliver(message_id=message.pk) == "retry"
    assert "ConnectionRefusedError" in reload(message).last_error


@pytest.mark.django_db
def test_it_lets_an_admin_resend_a_failed_email(admin, rep, django_capture_on_commit_callbacks, celery_eager):
    message = OutboxMessageFactory(status="failed", attempts=6, last_error="boom")
    with pytest.raises(PermissionDenied):
        outbox_requeue(ids=[message.pk], by=rep)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_requeue(ids=[message.pk], by=admin) == 1
    message = reload(message)
    assert (message.status, message.attempts) == ("sent", 1)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_hands_a_row_from_a_dead_sender_to_another_after_the_lease(celery_eager):
    now = timezone.now()
    stuck = OutboxMessageFactory(status="sending", attempts=1, lease_until=now - datetime.timedelta(seconds=1))
    busy = OutboxMessageFactory(status="sending", attempts=1, lease_until=now + datetime.timedelta(minutes=5))
    assert outbox_deliver_due()["sent"] == 1
    assert (reload(stuck).status, reload(busy).status) == ("sent", "sending")


@pytest.mark.django_db
def test_it_keeps_the_email_queued_when_the_broker_is_down_and_the_sweep_sends_it_later(
    team, pipeline, rep, only_rules, closed_port, celery_eager, django_capture_on_commit_callbacks
):
    ReminderRuleFactory(days_before=7)
    OpportunityFactory(team=team, pipeline=pipeline, owner=rep, expected_close_date=company_today())
    with celery_broker(celery_eager, f"redis://127.0.0.1:{closed_port}/0", eager=False):
        with django_capture_on_commit_callbacks(execute=True):
            result = reminders_send_due()  # the enqueue after commit fails: logged, not raised
    assert result["emails"] == 1
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("queued", 0)
    assert mail.outbox == []

    # The broker is back (eager here); the sweep leaves rows younger than a minute to their own task.
    assert job_deliver_notifications(inline=False).details["enqueued"] == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        run = job_deliver_notifications(inline=False)
    assert run.details["enqueued"] == 1 and run.rows == 1
    assert reload(message).status == "sent"
    assert len(mail.outbox) == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_each_email_once_when_two_delivery_workers_run_at_once():
    messages = [OutboxMessageFactory() for _ in range(60)]
    results = run_at_once(outbox_deliver_due)
    assert sum(result["sent"] for result in results) == len(messages)
    assert sorted(m.subject for m in mail.outbox) == sorted(m.subject for m in messages)
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
