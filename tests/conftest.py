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


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Assertions read the English msgids; the shipped default (zh-hans) has compiled catalogues,
    so a test that wants Chinese asks for it (Accept-Language, ``translation.override``)."""
    settings.LANGUAGE_CODE = "en"


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


# --- Added for the service and visibility suites (appended; the fixtures above are shared). ---


@pytest.fixture
def customer(rep):
    """A customer the rep recorded (so the rep may open deals for it)."""
    from tests.factories import CustomerFactory

    return CustomerFactory(name="Müller Maschinenbau GmbH", created_by=rep)


@pytest.fixture
def inactive_rep(team):
    """A former member of ``team``: deactivated, never deleted."""
    user = UserFactory(username="inactive_rep", is_active=False)
    team.members.add(user)
    return user


@pytest.fixture
def make_deal(team, pipeline, source, customer):
    """Build an open deal directly (bypassing services) in ``team``/``pipeline``; pass owner=… etc."""
    from tests.factories import OpportunityFactory

    def make(**kwargs):
        kwargs.setdefault("team", team)
        kwargs.setdefault("pipeline", pipeline)
        kwargs.setdefault("source", source)
        kwargs.setdefault("customer", customer)
        return OpportunityFactory(**kwargs)

    return make


@pytest.fixture
def quick_deal(make_deal):
    """``quick_deal(owner=…)``: an open deal in a pipeline with no exit criteria (won in one step)."""
    from stages.models import Stage
    from tests.factories import PipelineFactory

    quick = PipelineFactory(
        name="Quick",
        stages=[{"name": "Ask", "probability": 20}, {"name": "Done", "probability": 100, "kind": Stage.Kind.WON}],
    )
    return lambda **kwargs: make_deal(pipeline=quick, stage=quick.first_open_stage(), **kwargs)


# --- API -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttling counts requests in the cache: start every test from zero so the suite is
    never throttled by the tests that ran before."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api_client():
    """An anonymous API client."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_as():
    """``api_as(user)``: an API client signed in as ``user`` (no auth query per request)."""
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def deal(make_deal, rep):
    """An open deal owned by ``rep`` in stage New (10 %), due in 30 days."""
    return make_deal(owner=rep, title="500 LED panels for Müller")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2 at full strength costs ~0.3 s per user; the fixture cast alone creates six.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def outsider_deal(other_team, pipeline, source, outsider_rep):
    """An open opportunity of ``outsider_rep`` in ``other_team``, made through the service."""
    import datetime

    from crm.dates import company_today
    from opportunities.services import opportunity_create
    from tests.factories import CustomerFactory

    buyer = CustomerFactory(name="Lyon Pompes SA", created_by=outsider_rep)
    return opportunity_create(
        by=outsider_rep, title="Pumps for Lyon", customer=buyer, pipeline=pipeline, source=source,
        expected_close_date=company_today() + datetime.timedelta(days=30), team=other_team,
    )


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


# --- lead import (tests/imports/) -------------------------------------------------------


@pytest.fixture
def import_options(manager, team, pipeline, source):
    """What a manager chooses on the upload form, as service keyword arguments."""
    return {"source": source, "pipeline": pipeline, "team": team, "close_in_days": 30}


# --- reports (tests/reports/) ---------------------------------------------------------------


@pytest.fixture
def report_scenario(
    admin, manager, rep, other_rep, outsider_rep, outsider_manager, team, other_team, pipeline, lost_reason
):
    """The hand-computed March 2026 story of tests/reports/scenario.py, looked at on 10 April 2026."""
    import time_machine

    from tests.reports.scenario import NOW, build

    scenario = build(
        admin=admin, manager=manager, rep=rep, other_rep=other_rep, outsider_rep=outsider_rep,
        team=team, other_team=other_team, pipeline=pipeline, lost_reason=lost_reason,
    )
    with time_machine.travel(NOW, tick=False):
        yield scenario


# --- browser UI (pages) ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _axes_off(settings):
    """The login lockout (django-axes) is off unless a test asks for it with ``axes_on``: tests
    that fail logins on purpose must not lock out the next one, and Django's bare
    ``authenticate(username=…, password=…)`` (no request) is refused while axes is on."""
    settings.AXES_ENABLED = False


@pytest.fixture
def axes_on(settings):
    """django-axes as in production, starting (and ending) with no failed attempt recorded."""
    from axes.utils import reset

    settings.AXES_ENABLED = True
    reset()
    yield
    reset()


@pytest.fixture
def client_as(db):
    """``client_as(user)``: a new test client signed in as ``user`` (one per user in a test)."""
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make
