"""opportunity_push_close_date, opportunities_expire_overdue and opportunity_expire."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from crm.dates import company_today
from opportunities.models import CloseDateChange, Opportunity, StatusChange
from opportunities.services import opportunities_expire_overdue, opportunity_expire, opportunity_push_close_date

pytestmark = pytest.mark.django_db

OPEN, WON, LOST, EXPIRED = (
    Opportunity.Status.OPEN,
    Opportunity.Status.WON,
    Opportunity.Status.LOST,
    Opportunity.Status.EXPIRED,
)


def in_days(days: int) -> datetime.date:
    return company_today() + datetime.timedelta(days=days)


def status_of(*deals) -> list[str]:
    return [Opportunity.objects.get(pk=deal.pk).status for deal in deals]


# --- pushing the close date -------------------------------------------------------------------


def test_it_records_and_counts_a_later_date(deal, rep):
    old = deal.expected_close_date

    opportunity_push_close_date(
        opportunity=deal, by=rep, new_date=old + datetime.timedelta(days=10), reason="Waiting for the LC"
    )

    deal.refresh_from_db()
    assert (deal.expected_close_date, deal.close_date_pushes, deal.version) == (old + datetime.timedelta(days=10), 1, 2)
    row = CloseDateChange.objects.get(opportunity=deal)
    assert (row.old_date, row.new_date, row.by, row.reason) == (
        old,
        old + datetime.timedelta(days=10),
        rep,
        "Waiting for the LC",
    )


def test_it_counts_each_push(deal, rep):
    for days in (40, 50, 60):
        opportunity_push_close_date(opportunity=deal, by=rep, new_date=in_days(days))
    deal.refresh_from_db()
    assert deal.close_date_pushes == 3
    assert CloseDateChange.objects.filter(opportunity=deal).count() == 3


def test_it_records_an_earlier_date_without_counting_it(deal, rep):
    opportunity_push_close_date(opportunity=deal, by=rep, new_date=in_days(2))
    deal.refresh_from_db()
    assert (deal.expected_close_date, deal.close_date_pushes) == (in_days(2), 0)
    assert CloseDateChange.objects.filter(opportunity=deal, new_date=in_days(2)).exists()


def test_it_ignores_the_same_date(deal, rep):
    opportunity_push_close_date(opportunity=deal, by=rep, new_date=deal.expected_close_date)
    deal.refresh_from_db()
    assert (deal.close_date_pushes, deal.version) == (0, 1)
    assert not CloseDateChange.objects.exists()


def test_it_refuses_a_past_date_and_records_nothing(deal, rep):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_push_close_date(opportunity=deal, by=rep, new_date=in_days(-1))
    assert "expected_close_date" in excinfo.value.message_dict
    deal.refresh_from_db()
    assert (deal.close_date_pushes, deal.version) == (0, 1)
    assert not CloseDateChange.objects.exists()


def test_it_refuses_pushing_a_closed_deal(make_deal, rep):
    won = make_deal(owner=rep, status=WON)
    with pytest.raises(ValidationError):
        opportunity_push_close_date(opportunity=won, by=rep, new_date=in_days(90))
    assert not CloseDateChange.objects.exists()


def test_it_refuses_another_rep(deal, other_rep):
    with pytest.raises(PermissionDenied):
        opportunity_push_close_date(opportunity=deal, by=other_rep, new_date=in_days(90))
    assert not CloseDateChange.objects.exists()


# --- expiry ---------------------------------------------------------------------------------------


def test_it_expires_exactly_the_overdue_open_deals(make_deal, rep, stages):
    overdue = make_deal(owner=rep, expected_close_date=in_days(-1))
    pooled_overdue = make_deal(owner=None, expected_close_date=in_days(-30))
    due_today = make_deal(owner=rep, expected_close_date=company_today())
    won_long_ago = make_deal(owner=rep, stage=stages["Won"], status=WON, expected_close_date=in_days(-5))
    lost = make_deal(owner=rep, stage=stages["Lost"], status=LOST, expected_close_date=in_days(-5))
    version_before = overdue.version

    assert opportunities_expire_overdue() == 2

    assert status_of(overdue, pooled_overdue, due_today, won_long_ago, lost) == [EXPIRED, EXPIRED, OPEN, WON, LOST]
    rows = StatusChange.objects.order_by("opportunity_id")
    assert [(row.opportunity_id, row.from_status, row.to_status, row.by, row.owner) for row in rows] == [
        (overdue.pk, OPEN, EXPIRED, None, rep),
        (pooled_overdue.pk, OPEN, EXPIRED, None, None),
    ]
    overdue.refresh_from_db()
    assert overdue.closed_at is not None
    assert overdue.version == version_before + 1
    assert overdue.stage == stages["New"]  # expired is a status of its own, not the lost stage


def test_it_uses_the_company_day_not_the_utc_day(make_deal, rep):
    deal = make_deal(owner=rep, expected_close_date=datetime.date(2026, 3, 1))
    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai: the deal was due yesterday.
    with time_machine.travel(datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC), tick=False):
        assert opportunities_expire_overdue() == 1
    assert status_of(deal) == [EXPIRED]


def test_it_leaves_a_deal_due_today_in_shanghai_open(make_deal, rep):
    deal = make_deal(owner=rep, expected_close_date=datetime.date(2026, 3, 2))
    with time_machine.travel(datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC), tick=False):
        assert opportunities_expire_overdue() == 0
    assert status_of(deal) == [OPEN]


def test_it_is_idempotent(make_deal, rep):
    deals = [make_deal(owner=rep, expected_close_date=in_days(-2)) for _ in range(3)]
    assert opportunities_expire_overdue() == 3
    assert opportunities_expire_overdue() == 0
    assert StatusChange.objects.count() == 3
    assert status_of(*deals) == [EXPIRED] * 3


def test_it_works_through_several_batches(make_deal, rep):
    deals = [make_deal(owner=rep, expected_close_date=in_days(-2)) for _ in range(5)]
    assert opportunities_expire_overdue(batch_size=2) == 5
    assert status_of(*deals) == [EXPIRED] * 5
    assert StatusChange.objects.count() == 5


def test_it_expires_one_overdue_deal(make_deal, rep):
    deal = make_deal(owner=rep, expected_close_date=in_days(-1))

    opportunity_expire(opportunity=deal)

    deal.refresh_from_db()
    assert (deal.status, deal.version) == (EXPIRED, 2)
    row = StatusChange.objects.get(opportunity=deal)
    assert (row.from_status, row.to_status, row.by, row.owner) == (OPEN, EXPIRED, None, rep)


def test_it_refuses_to_expire_a_deal_not_yet_overdue(deal):
    with pytest.raises(ValidationError):
        opportunity_expire(opportunity=deal)
    assert status_of(deal) == [OPEN]
    assert not StatusChange.objects.exists()


def test_it_refuses_to_expire_a_won_deal(make_deal, rep, stages):
    won = make_deal(owner=rep, stage=stages["Won"], status=WON, expected_close_date=in_days(-1))
    with pytest.raises(ValidationError):
        opportunity_expire(opportunity=won)
    assert status_of(won) == [WON]
    assert not StatusChange.objects.exists()
