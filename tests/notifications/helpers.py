"""Helpers shared by the notification tests (not fixtures: those live in tests/conftest.py)."""

import datetime
import threading
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from kombu import pools

SHANGHAI = ZoneInfo("Asia/Shanghai")

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: two connections writing at once (SQLite has one writer at a time and no row locks)",
)


def shanghai(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def run_at_once(target, count: int = 2, timeout: float = 60) -> list:
    """Run ``target()`` in ``count`` threads (each with its own database connection), released
    together by a barrier; return their results, re-raising the first error."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=timeout)
            results.append(target())
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


@contextmanager
def celery_broker(app, url: str, *, eager: bool = False):
    """Point the Celery app of this process at ``url`` (no publish retries), then restore it."""
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "broker_transport_options", "task_publish_retry", "task_always_eager")
    }

    def reset_pools():
        # kombu keeps connection and producer pools per broker URL, process-wide.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    reset_pools()
    app.conf.update(
        broker_url=url, broker_transport_options={"max_retries": 0}, task_publish_retry=False, task_always_eager=eager
    )
    try:
        yield app
    finally:
        reset_pools()
        app.conf.update(saved)
