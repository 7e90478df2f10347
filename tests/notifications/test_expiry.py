import datetime

import pytest
import time_machine
from django.core import mail
from django.db.models import Count

from notifications.models import Notification, OutboxMessage
from notifications.services import expiry_reason, expiry_run, job_expire_overdue
from opportunities.models import Opportunity, StatusChange
from opportunities.services import opportunities_expire_overdue, opportunity_add_activity, opportunity_close
from tests.factories import OpportunityFactory, ReminderRuleFactory, upload
from tests.notifications.helpers import requires_postgres, run_at_once, shanghai

EXPIRED = Opportunity.Status.EXPIRED


@pytest.fixture
def deal(team, pipeline, rep):
    def make(close_date, **kwargs):
        kwargs.setdefault("owner", rep)
        return OpportunityFactory(team=team, pipeline=pipeline, expected_close_date=close_date, **kwargs)

    return make


def statuses(*deals):
    return [Opportunity.objects.get(pk=d.pk).status for d in deals]


def test_it_expires_only_deals_due_before_today_at_2359_shanghai(deal, only_rules):
    # 23:59 in Shanghai is 15:59 UTC the same day: "today" is 10 March either way.
    with time_machine.travel(shanghai(2026, 3, 10, 23, 59), tick=False):
        due_yesterday = deal(datetime.date(2026, 3, 9))
        due_today = deal(datetime.date(2026, 3, 10))
        expiry_run()
    assert statuses(due_yesterday, due_today) == [EXPIRED, "open"]


def test_it_expires_yesterdays_deals_at_0001_shanghai_while_utc_is_still_yesterday(deal, only_rules):
    # 00:01 on 11 March in Shanghai is 16:01 UTC on 10 March: the company day has turned.
    with time_machine.travel(shanghai(2026, 3, 11, 0, 1), tick=False):
        due_10th = deal(datetime.date(2026, 3, 10))
        due_11th = deal(datetime.date(2026, 3, 11))
        expiry_run()
    assert statuses(due_10th, due_11th) == [EXPIRED, "open"]


def test_it_records_history_reason_and_closed_at(deal, only_rules):
    with time_machine.travel(shanghai(2026, 3, 11, 0, 10), tick=False):
        overdue = deal(datetime.date(2026, 3, 1))
        expiry_run()
    overdue.refresh_from_db()
    assert overdue.closed_at == shanghai(2026, 3, 11, 0, 10)
    assert overdue.close_reason == expiry_reason()
    change = StatusChange.objects.get(opportunity=overdue, to_status=EXPIRED)
    assert (change.from_status, change.owner_id, change.by_id) == ("open", overdue.owner_id, None)
    assert (change.at, change.reason) == (overdue.closed_at, expiry_reason())
    assert "expected close date" in expiry_reason() or "预计成交日期" in expiry_reason()


def test_it_does_not_expire_a_deal_won_a_minute_before_the_run(deal, rep, only_rules):
    with time_machine.travel(shanghai(2026, 3, 11, 0, 9), tick=False):
        won = deal(datetime.date(2026, 3, 10))
        # Winning from the first stage jumps over the sample gate: its evidence first.
        opportunity_add_activity(opportunity=won, by=rep, kind="sample", tracking_number="SF1", files=[upload()])
        opportunity_close(opportunity=won, outcome=Opportunity.Status.WON, by=rep)
    with time_machine.travel(shanghai(2026, 3, 11, 0, 10), tick=False):
        result = expiry_run()
    assert result["expired"] == 0
    assert statuses(won) == [Opportunity.Status.WON]
    assert not StatusChange.objects.filter(opportunity=won, to_status=EXPIRED).exists()


def test_it_honours_pipeline_grace_days(deal, pipeline, only_rules):
    pipeline.expiry_grace_days = 3
    pipeline.save()
    with time_machine.travel(shanghai(2026, 3, 11, 0, 10), tick=False):
        within_grace = deal(datetime.date(2026, 3, 8))
        past_grace = deal(datetime.date(2026, 3, 7))
        expiry_run()
    assert statuses(within_grace, past_grace) == ["open", EXPIRED]


def test_it_notifies_owner_and_managers_in_app_and_sends_one_digest_per_recipient(
    deal, rep, manager, only_rules, celery_eager, django_capture_on_commit_callbacks
):
    ReminderRuleFactory(kind="expiry_digest", to_owner=True, to_managers=True)
    with time_machine.travel(shanghai(2026, 3, 11, 0, 10), tick=False):
        first, second = deal(datetime.date(2026, 3, 1)), deal(datetime.date(2026, 3, 5))
        with django_capture_on_commit_callbacks(execute=True):
            run = job_expire_overdue()
    assert run.rows == 2 and run.status == "ok"
    assert set(Notification.objects.values_list("user__username", "opportunity_id", "kind")) == {
        ("rep", first.pk, "expired"), ("rep", second.pk, "expired"),
        ("manager", first.pk, "expired"), ("manager", second.pk, "expired"),
    }  # fmt: skip
    assert sorted(m.to for m in mail.outbox) == [["manager@example.com"], ["rep@example.com"]]
    digest = next(m for m in mail.outbox if m.to == ["rep@example.com"])
    assert first.title in digest.body and second.title in digest.body
    html = digest.alternatives[0].content
    assert "<table" in html and f"/notifications/opportunity/{first.pk}/" in html
    assert OutboxMessage.objects.filter(status="sent").count() == 2


def test_it_sends_no_digest_without_an_active_digest_rule(deal, only_rules, celery_eager):
    with time_machine.travel(shanghai(2026, 3, 11, 0, 10), tick=False):
        deal(datetime.date(2026, 3, 1))
        result = expiry_run()
    assert result == {"expired": 1, "notifications": 2, "digests": 0}
    assert not OutboxMessage.objects.exists()


def test_it_keeps_the_old_keywords_of_the_expire_service(deal):
    overdue = deal(datetime.date(2026, 3, 1))
    assert opportunities_expire_overdue(today=datetime.date(2026, 3, 2), batch_size=1) == 1
    assert statuses(overdue) == [EXPIRED]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_it_expires_each_deal_once_when_two_runs_overlap(team, pipeline, rep, manager, source, only_rules):
    today = datetime.date(2026, 3, 11)
    due = datetime.date(2026, 3, 1)
    deals = [
        OpportunityFactory(team=team, pipeline=pipeline, owner=rep, source=source, expected_close_date=due)
        for _ in range(240)
    ]
    results = run_at_once(lambda: expiry_run(today=today, batch_size=20))
    assert sum(result["expired"] for result in results) == len(deals)
    assert all(result["expired"] > 0 for result in results), "both runs should have taken a share"
    changes = StatusChange.objects.filter(to_status=EXPIRED)
    assert changes.count() == len(deals)
    assert not changes.values("opportunity").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert Notification.objects.filter(kind="expired").count() == 2 * len(deals)  # owner + manager, once each
