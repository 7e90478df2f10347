import datetime

import pytest
import time_machine
from django.core import mail

from crm.dates import company_today
from notifications.models import Notification, OutboxMessage, ReminderRecord
from notifications.services import reminders_send_due
from opportunities.services import opportunity_push_close_date
from tests.factories import OpportunityFactory, PipelineFactory, ReminderRuleFactory, UserFactory
from tests.notifications.helpers import shanghai

pytestmark = pytest.mark.usefixtures("only_rules")


@pytest.fixture
def deal(team, pipeline, rep):
    def make(close_date, **kwargs):
        kwargs.setdefault("owner", rep)
        return OpportunityFactory(team=team, pipeline=pipeline, expected_close_date=close_date, **kwargs)

    return make


def in_days(days: int) -> datetime.date:
    return company_today() + datetime.timedelta(days=days)


def test_it_reminds_once_per_rule_deal_and_close_date(deal, rep):
    rule = ReminderRuleFactory(days_before=7)
    opportunity = deal(in_days(7))
    first = reminders_send_due()
    second = reminders_send_due()
    assert first["reminders"] == 1 and second["reminders"] == 0
    assert ReminderRecord.objects.filter(rule=rule, opportunity=opportunity).count() == 1
    assert OutboxMessage.objects.filter(kind="reminder", opportunity=opportunity, recipient=rep).count() == 1
    assert Notification.objects.filter(kind="reminder", opportunity=opportunity, user=rep).count() == 1


def test_it_waits_until_the_deal_is_inside_the_window(deal):
    ReminderRuleFactory(days_before=7)
    deal(in_days(8))
    assert reminders_send_due()["reminders"] == 0


def test_it_reminds_again_after_the_date_is_pushed(deal, rep):
    ReminderRuleFactory(days_before=7)
    opportunity = deal(in_days(5))
    reminders_send_due()
    opportunity_push_close_date(opportunity=opportunity, by=rep, new_date=in_days(6))
    assert reminders_send_due()["reminders"] == 1
    assert sorted(ReminderRecord.objects.values_list("close_date", flat=True)) == [in_days(5), in_days(6)]
    assert OutboxMessage.objects.filter(kind="reminder").count() == 2


def test_it_catches_up_after_three_missed_days_and_then_stays_quiet(team, pipeline, rep):
    ReminderRuleFactory(days_before=7)
    with time_machine.travel(shanghai(2026, 3, 1, 7, 0), tick=False):
        opportunity = OpportunityFactory(
            team=team, pipeline=pipeline, owner=rep, expected_close_date=datetime.date(2026, 3, 12)
        )
        assert reminders_send_due()["reminders"] == 0  # 11 days ahead: not yet due
    # The server is down from 3 to 7 March (due from the 5th): the run on the 8th catches up.
    with time_machine.travel(shanghai(2026, 3, 8, 7, 0), tick=False):
        assert reminders_send_due()["reminders"] == 1
    with time_machine.travel(shanghai(2026, 3, 9, 7, 0), tick=False):
        assert reminders_send_due()["reminders"] == 0
    message = OutboxMessage.objects.get(opportunity=opportunity)
    assert "2026-03-12" in message.subject


def test_it_sends_nothing_for_a_date_that_has_passed(deal):
    ReminderRuleFactory(days_before=7)
    deal(in_days(-1))  # still open: expiry has not run yet
    due_today = deal(in_days(0))
    reminders_send_due()
    assert list(ReminderRecord.objects.values_list("opportunity_id", flat=True)) == [due_today.pk]


def test_it_skips_closed_deals_inactive_rules_and_other_pipelines(deal, team, rep):
    ReminderRuleFactory(days_before=7, is_active=False)
    ReminderRuleFactory(days_before=7, pipeline=PipelineFactory())
    deal(in_days(3))
    deal(in_days(3), status="won")
    assert reminders_send_due()["reminders"] == 0


def test_it_sends_to_managers_admins_and_extra_addresses_each_in_their_language(deal, rep, manager, admin, settings):
    settings.SITE_URL = "http://testserver"
    settings.LANGUAGE_CODE = "zh-hans"  # the site default, for whoever has no language of their own
    rep.language = "en"
    rep.save()
    ReminderRuleFactory(
        days_before=7, to_owner=True, to_managers=True, to_admins=True,
        extra_emails="Boss@Example.com, rep@example.com\nsales@example.com",
    )  # fmt: skip
    opportunity = deal(in_days(2))
    reminders_send_due()
    messages = {m.to_address: m for m in OutboxMessage.objects.all()}
    assert sorted(messages) == [
        "admin@example.com", "boss@example.com", "manager@example.com", "rep@example.com", "sales@example.com",
    ]  # fmt: skip
    assert messages["rep@example.com"].language == "en"
    assert messages["rep@example.com"].subject.startswith("Reminder:")
    assert messages["manager@example.com"].language == "zh-hans"
    assert messages["manager@example.com"].subject.startswith("提醒")
    assert "还剩 2 天" in messages["manager@example.com"].body_text
    assert f"http://testserver/notifications/opportunity/{opportunity.pk}/" in messages["rep@example.com"].body_text
    # In-app: the users among them, not the bare addresses.
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == ["admin", "manager", "rep"]


def test_it_gives_users_without_an_address_the_bell_only(deal, team):
    silent = UserFactory(username="silent", email="")
    team.members.add(silent)
    ReminderRuleFactory(days_before=7)
    deal(in_days(1), owner=silent)
    reminders_send_due()
    assert not OutboxMessage.objects.exists()
    assert Notification.objects.filter(user=silent).count() == 1


def test_it_delivers_reminders_after_commit(deal, celery_eager, django_capture_on_commit_callbacks):
    ReminderRuleFactory(days_before=7)
    opportunity = deal(in_days(7))
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send_due()
    assert len(mail.outbox) == 1
    assert opportunity.title in mail.outbox[0].subject
    assert OutboxMessage.objects.get().status == "sent"
