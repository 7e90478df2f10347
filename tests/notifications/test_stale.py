import datetime

import pytest
import time_machine

from notifications.models import Notification, OutboxMessage
from notifications.services import stale_alerts_send
from opportunities.services import opportunity_add_activity
from tests.factories import OpportunityFactory
from tests.notifications.helpers import shanghai


@pytest.fixture
def idle_deal(team, pipeline, rep, stages):
    stage = stages["New"]
    stage.rotting_days = 5
    stage.save()
    with time_machine.travel(shanghai(2026, 3, 1, 9, 0), tick=False):
        return OpportunityFactory(
            team=team, pipeline=pipeline, owner=rep, stage=stage, expected_close_date=datetime.date(2026, 6, 1)
        )


def test_it_alerts_the_owner_once_per_idle_period(idle_deal, rep):
    with time_machine.travel(shanghai(2026, 3, 5, 9, 0), tick=False):
        assert stale_alerts_send()["alerts"] == 0  # 4 days idle: not yet
    with time_machine.travel(shanghai(2026, 3, 7, 9, 0), tick=False):
        assert stale_alerts_send() == {"alerts": 1, "emails": 1}
    with time_machine.travel(shanghai(2026, 3, 20, 9, 0), tick=False):
        assert stale_alerts_send()["alerts"] == 0  # still the same idle period
    notification = Notification.objects.get(kind="stale")
    assert (notification.user, notification.data["idle_days"]) == (rep, 6)
    assert OutboxMessage.objects.get(kind="stale").to_address == "rep@example.com"


def test_it_alerts_again_when_new_work_is_followed_by_new_idleness(idle_deal, rep):
    with time_machine.travel(shanghai(2026, 3, 7, 9, 0), tick=False):
        stale_alerts_send()
    with time_machine.travel(shanghai(2026, 3, 8, 9, 0), tick=False):
        opportunity_add_activity(opportunity=idle_deal, by=rep, kind="call", body="Called the buyer")
        assert stale_alerts_send()["alerts"] == 0
    with time_machine.travel(shanghai(2026, 3, 14, 9, 0), tick=False):
        assert stale_alerts_send()["alerts"] == 1
    assert Notification.objects.filter(kind="stale").count() == 2


def test_it_ignores_stages_without_a_limit_and_closed_or_unowned_deals(team, pipeline, rep, stages):
    with time_machine.travel(shanghai(2026, 1, 1, 9, 0), tick=False):
        OpportunityFactory(team=team, pipeline=pipeline, owner=rep, expected_close_date=datetime.date(2026, 6, 1))
        stage = stages["New"]
        stage.rotting_days = 5
        stage.save()
        OpportunityFactory(team=team, pipeline=pipeline, owner=None, expected_close_date=datetime.date(2026, 6, 1))
        OpportunityFactory(team=team, pipeline=pipeline, owner=rep, status="won", expected_close_date=None)
    stage.rotting_days = None
    stage.save()
    with time_machine.travel(shanghai(2026, 3, 1, 9, 0), tick=False):
        assert stale_alerts_send()["alerts"] == 0
    stage.rotting_days = 5
    stage.save()
    with time_machine.travel(shanghai(2026, 3, 1, 9, 0), tick=False):
        assert stale_alerts_send()["alerts"] == 1  # only the owned open deal
