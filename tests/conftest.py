"""Shared fixtures. The cast: ``rep`` and ``other_rep`` in ``team`` (managed by ``manager``),
``outsider_manager`` managing ``other_team`` (with ``outsider_rep``), and ``admin``."""

import pytest

from tests.factories import (
    LeadSourceFactory,
    LostReasonFactory,
    PipelineFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rep(db):
    return UserFactory(username="rep")


@pytest.fixture
def other_rep(db):
    return UserFactory(username="other_rep")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager")


@pytest.fixture
def outsider_manager(db):
    return UserFactory(username="outsider_manager")


@pytest.fixture
def outsider_rep(db):
    return UserFactory(username="outsider_rep")


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def team(rep, other_rep, manager):
    return TeamFactory(name="外贸一部", members=[rep, other_rep], managers=[manager])


@pytest.fixture
def other_team(outsider_rep, outsider_manager):
    return TeamFactory(name="外贸二部", members=[outsider_rep], managers=[outsider_manager])


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Main pipeline")


@pytest.fixture
def stages(pipeline):
    """The pipeline's stages by name."""
    return {stage.name: stage for stage in pipeline.stages.all()}


@pytest.fixture
def source(db):
    return LeadSourceFactory(name="2026春季广交会")


@pytest.fixture
def lost_reason(db):
    return LostReasonFactory(name="Price too high")


# --- notifications --------------------------------------------------------------------------------


@pytest.fixture
def celery_eager():
    """Tasks run in-process when enqueued (no broker); restores the app's settings after."""
    from crm.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def only_rules(db):
    """Start from no reminder rules (migration 0002 installs defaults): tests create the rules they need."""
    from notifications.models import ReminderRule

    ReminderRule.objects.all().delete()


@pytest.fixture(scope="session", autouse=True)
def _notification_defaults_survive_flush():
    """Transactional tests end with a flush, which empties what migration 0002 installed (default
    schedules and rules). Flush emits post_migrate: put them back then, so later tests and
    --reuse-db runs see the database as ``migrate`` left it."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    def reinstall(sender, **kwargs):
        if getattr(sender, "name", "") == "notifications":
            from notifications.defaults import install_defaults

            install_defaults(apps)

    post_migrate.connect(reinstall, dispatch_uid="tests-notification-defaults")
    yield
    post_migrate.disconnect(dispatch_uid="tests-notification-defaults")


@pytest.fixture
def smtp_refusing():
    """A real SMTP server on a local port that greets, then refuses every sender with 451
    (a temporary failure). Yields (host, port)."""
    import socketserver
    import threading

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 refusing.test ESMTP\r\n")
            for line in self.rfile:
                command = line[:4].upper()
                if command in (b"EHLO", b"HELO"):
                    self.wfile.write(b"250 refusing.test\r\n")
                elif command == b"MAIL":
                    self.wfile.write(b"451 4.3.0 Mailbox temporarily unavailable\r\n")
                elif command == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 OK\r\n")

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port():
    """A local port with nothing listening (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fast_password_hasher(settings):
    """Factories hash a password per user; MD5 makes that instant where security is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
