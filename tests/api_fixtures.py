"""Fixtures the API suites use in place of the root ``customer`` and ``deal``.

The API tests exercise history and timelines, so their deal is made through
``opportunity_create`` (with its first StageChange and Assignment), not built by a factory.
A test module opts in with ``from tests.api_fixtures import customer, deal``: a fixture defined
in (or imported into) a module overrides the conftest one of the same name for that module.
"""

import datetime

import pytest

from crm.dates import company_today
from opportunities.services import opportunity_create
from tests.factories import CustomerFactory


@pytest.fixture
def customer(rep):
    """A customer recorded by ``rep``."""
    return CustomerFactory(name="Hamburg Valves GmbH", created_by=rep)


@pytest.fixture
def deal(team, pipeline, source, rep, customer):
    """An open opportunity of ``rep`` in ``team``, created through the service (with its history)."""
    return opportunity_create(
        by=rep, title="Ball valves for Hamburg", customer=customer, pipeline=pipeline, source=source,
        expected_close_date=company_today() + datetime.timedelta(days=30), team=team, amount="1000.00",
    )
