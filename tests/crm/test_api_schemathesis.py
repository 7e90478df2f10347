"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

Every operation of /api/schema/ is called with generated valid input, as a manager and as a
rep (token auth), on a small world with real rows: no answer may be a 5xx, and every answer
must match the schema — its status code, content type and body. The example count is bounded
so this stays well under a minute.
"""

import datetime

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.dates import company_today
from crm.wsgi import application
from opportunities.imports.services import import_job_run, import_leads
from opportunities.services import opportunity_add_activity, opportunity_create
from tests.api_fixtures import customer, deal  # noqa: F401  (service-made deal, see the module)
from tests.factories import ContactFactory, CurrencyRateFactory
from tests.imports.files import CARD_HEADERS_ZH, card, excel_gbk_csv, upload

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 10

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "positive", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    }
)


@pytest.fixture
def lead_import(manager, team, pipeline, source):
    """A finished lead import with a rejected row, for /api/imports/ to find."""
    rows = [CARD_HEADERS_ZH, card(1), ["", "无名"]]
    job = import_leads(
        by=manager,
        file=upload(excel_gbk_csv(rows)),
        source=source,
        pipeline=pipeline,
        team=team,
        close_in_days=30,
        enqueue=False,
    )
    return import_job_run(job_id=job.pk)


@pytest.fixture
def world(team, other_team, pipeline, source, lost_reason, customer, rep, outsider_deal, lead_import):
    """Rows for the generated requests to find: deals, a contact, an activity with a file, an import."""
    CurrencyRateFactory(currency="USD")
    ContactFactory(customer=customer)
    deal = opportunity_create(
        by=rep,
        title="Ball valves",
        customer=customer,
        pipeline=pipeline,
        source=source,
        team=team,
        expected_close_date=company_today() + datetime.timedelta(days=30),
    )
    opportunity_add_activity(
        opportunity=deal,
        by=rep,
        kind="sample",
        body="Samples",
        tracking_number="SF1",
        files=[SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")],
    )
    return deal


# Loaded when the module is collected (schema generation needs no database). The lazy
# ``schemathesis.pytest.from_fixture`` loader does not work with pytest 9 (it sets
# ``Node._nodeid``, which pytest 9 renamed).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture
def in_test_transaction(settings):
    """Run the real WSGI handler inside the test's transaction: Django closes "old" connections
    when a request ends, which on PostgreSQL would end the test transaction (Django's own test
    client unhooks the same signal). Hundreds of calls a minute by one user: no throttling."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"},
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(manager, rep, world):
    """Token headers of a manager and of a rep: every generated request is sent as both."""
    return [{"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"} for user in (manager, rep)]


@pytest.mark.slow
@schema.parametrize()
# The fixtures build the world once per operation; the calls may change it, which is fine here.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_answers_every_operation_within_its_schema(case, auth_headers, in_test_transaction):
    for headers in auth_headers:
        case.call_and_validate(headers=headers, checks=CHECKS)
