import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import JobRun, OutboxMessage
from notifications.services import job_send_reminders
from tests.factories import OutboxMessageFactory


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "notifications_outboxmessage_changelist",
        "notifications_jobrun_changelist",
        "notifications_reminderrule_changelist",
        "notifications_notification_changelist",
        "notifications_reminderrecord_changelist",
    ],
)
def test_it_shows_the_admin_lists(admin_client, name):
    OutboxMessageFactory(status="failed", last_error="SMTPSenderRefused: 451")
    job_send_reminders()
    assert admin_client.get(reverse(f"admin:{name}")).status_code == 200


def test_it_shows_when_each_job_last_ran_in_admin(admin_client):
    run = job_send_reminders()
    response = admin_client.get(reverse("admin:notifications_jobrun_changelist"))
    assert run in response.context["cl"].result_list


def test_it_resends_failed_emails_from_admin(admin_client, celery_eager, django_capture_on_commit_callbacks):
    failed = OutboxMessageFactory(status="failed", attempts=6, last_error="SMTPSenderRefused: 451")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:notifications_outboxmessage_changelist"),
            {"action": "resend", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    assert OutboxMessage.objects.get(pk=failed.pk).status == "sent"
    assert len(mail.outbox) == 1


def test_it_keeps_reps_out_of_the_outbox_admin(client, rep):
    client.force_login(rep)
    response = client.get(reverse("admin:notifications_outboxmessage_changelist"))
    assert response.status_code == 302
    assert JobRun.objects.count() == 0


def test_it_shows_an_outbox_email_with_its_error(admin_client):
    failed = OutboxMessageFactory(status="failed", last_error="SMTPSenderRefused: 451 try later")
    response = admin_client.get(reverse("admin:notifications_outboxmessage_change", args=[failed.pk]))
    assert response.status_code == 200
    assert "451 try later" in response.content.decode()
