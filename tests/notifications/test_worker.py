"""End to end: a real Celery worker process, the Redis on this machine, the test database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from crm.celery import app
from crm.dates import company_today
from notifications.models import OutboxMessage
from notifications.tasks import send_reminders
from tests.factories import OpportunityFactory, ReminderRuleFactory
from tests.notifications.helpers import celery_broker

REDIS_URL = os.environ.get("REDIS_URL", "")
TEST_REDIS_DB = 14  # this suite's own Redis database; the queue name is unique per run as well
WAIT_SECONDS = 60

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REDIS_URL, reason="set REDIS_URL to run the real-worker test against Redis"),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the worker process must reach the test database (SQLite's is in memory)",
    ),
]


def redis_url_for_tests() -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{TEST_REDIS_DB}", "", ""))


def worker_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'])}"


@pytest.fixture
def worker(tmp_path):
    """Start `celery worker` on a queue of its own; always stopped at the end."""
    queue = f"jihui-test-{uuid.uuid4().hex[:10]}"
    broker = redis_url_for_tests()
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DATABASE_URL": worker_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"file://{mail_dir}",
        "JIHUI_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SECRET_KEY": "worker-test-secret",
        "SITE_URL": "http://crm.test",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "-P", "solo", "-c", "1",
                "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO", "-n", f"{queue}@%h",
            ],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield {"queue": queue, "broker": broker, "mail_dir": mail_dir, "log": log_path, "process": process}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        import redis

        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"*{queue}*"):  # the queue, its bindings, the worker's mailbox
            client.delete(key)
        client.close()


def wait_for(predicate, seconds: float, process) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.25)
    return False


@pytest.mark.django_db(transaction=True)
def test_it_delivers_a_reminder_end_to_end_through_a_real_worker(worker, team, pipeline, rep, only_rules):
    ReminderRuleFactory(days_before=7)
    deal = OpportunityFactory(team=team, pipeline=pipeline, owner=rep, expected_close_date=company_today())

    with celery_broker(app, worker["broker"]):
        send_reminders.apply_async(queue=worker["queue"])

    def delivered() -> bool:
        return OutboxMessage.objects.filter(status="sent").exists() and any(worker["mail_dir"].iterdir())

    ok = wait_for(delivered, WAIT_SECONDS, worker["process"])
    assert ok, f"no e-mail within {WAIT_SECONDS}s; worker log:\n{Path(worker['log']).read_text()[-4000:]}"
    files = list(worker["mail_dir"].iterdir())
    assert len(files) == 1
    content = files[0].read_text()
    assert "To: rep@example.com" in content
    assert f"http://crm.test/notifications/opportunity/{deal.pk}/" in content
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("sent", 1)
