import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from crm.dates import company_today
from notifications.models import JobRun, OutboxMessage
from notifications.services import job_run_record
from opportunities.models import Opportunity
from tests.factories import OpportunityFactory, OutboxMessageFactory, ReminderRuleFactory

pytestmark = pytest.mark.usefixtures("only_rules")


def run(command, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_it_expires_overdue_deals_from_the_command_and_records_the_run(team, pipeline, rep):
    yesterday = company_today() - datetime.timedelta(days=1)
    overdue = OpportunityFactory(team=team, pipeline=pipeline, owner=rep, expected_close_date=yesterday)
    output = run("expire_overdue")
    assert "Expired 1 opportunities" in output
    assert Opportunity.objects.get(pk=overdue.pk).status == "expired"
    job = JobRun.objects.get(job="expire_overdue")
    assert (job.status, job.rows) == ("ok", 1) and job.finished_at >= job.started_at


def test_it_sends_reminders_and_delivers_them_from_the_commands(team, pipeline, rep):
    ReminderRuleFactory(days_before=7)
    OpportunityFactory(team=team, pipeline=pipeline, owner=rep, expected_close_date=company_today())
    assert "1 reminders due: 1 e-mails queued" in run("send_reminders")
    assert "Sent 1," in run("deliver_notifications")
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get().status == "sent"
    assert set(JobRun.objects.values_list("job", "rows")) == {("send_reminders", 1), ("deliver_notifications", 1)}


def test_it_enqueues_like_the_periodic_sweep_with_enqueue(celery_eager):
    OutboxMessageFactory(next_attempt_at="2026-01-01T00:00Z")
    assert "Enqueued 1 e-mails" in run("deliver_notifications", "--enqueue")
    assert len(mail.outbox) == 1


def test_it_prints_when_each_job_last_ran(team, pipeline, rep):
    run("send_reminders")
    output = run("jobs_status")
    lines = {line.split()[0]: line for line in output.splitlines() if line and not line.startswith(" ")}
    assert "never" in lines["expire_overdue"]
    assert " ok " in lines["send_reminders"] and "Asia/Shanghai" in lines["send_reminders"]
    assert "deliver_notifications" in lines
    assert "outbox: queued 0, sending 0, sent 0, failed 0" in output


def test_it_records_a_failed_run_with_its_error():
    with pytest.raises(RuntimeError), job_run_record(job=JobRun.Job.SEND_REMINDERS):
        raise RuntimeError("database went away")
    job = JobRun.objects.get()
    assert (job.status, job.error) == ("failed", "RuntimeError: database went away")
    assert "error: RuntimeError: database went away" in run("jobs_status")
