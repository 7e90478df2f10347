"""StatusChange.deal_team: PostgreSQL keeps it equal to the deal's current team (migration
opportunities/0009), whatever writes the status change or moves the deal. On SQLite the column
stays empty and the incentive is read without it: the incentive test runs on both."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import F

from crm.dates import company_today
from opportunities.models import Opportunity, StatusChange

WON, OPEN = Opportunity.Status.WON, Opportunity.Status.OPEN


def _postgresql_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("deal_team is kept by PostgreSQL's triggers; SQLite leaves it empty")


def event_teams(deal) -> set:
    return set(StatusChange.objects.filter(opportunity=deal).values_list("deal_team", flat=True))


def assert_every_event_has_its_deals_team():
    behind = StatusChange.objects.exclude(deal_team=F("opportunity__team")) | StatusChange.objects.filter(
        deal_team__isnull=True
    )
    assert not behind.exists()


def test_it_gives_a_new_status_change_its_deals_team(make_deal, rep, team):
    _postgresql_only()
    deal = make_deal(owner=rep)
    StatusChange.objects.create(opportunity=deal, from_status=OPEN, to_status=WON, owner=rep)
    assert event_teams(deal) == {team.pk}


def test_it_never_takes_a_team_written_by_hand(make_deal, rep, team, other_team):
    _postgresql_only()
    deal = make_deal(owner=rep)
    event = StatusChange.objects.create(opportunity=deal, from_status=OPEN, to_status=WON, owner=rep)
    StatusChange.objects.filter(pk=event.pk).update(deal_team=other_team)
    assert event_teams(deal) == {team.pk}


def test_it_gives_the_services_status_changes_their_team(quick_deal, rep, manager, team):
    _postgresql_only()
    from opportunities.services import opportunity_close, opportunity_reopen

    deal = quick_deal(owner=rep)
    deal = opportunity_close(opportunity=deal, outcome=WON, by=rep)
    opportunity_reopen(opportunity=deal, by=manager, expected_close_date=company_today() + datetime.timedelta(days=9))
    assert event_teams(deal) == {team.pk}
    assert StatusChange.objects.filter(opportunity=deal).count() == 2


def test_it_carries_the_status_changes_along_when_the_service_moves_a_deal(
    quick_deal, rep, manager, admin, team, other_team, outsider_rep
):
    _postgresql_only()
    from opportunities.services import opportunity_assign, opportunity_close, opportunity_reopen

    deal = opportunity_close(opportunity=quick_deal(owner=rep), outcome=WON, by=rep)
    opportunity_reopen(opportunity=deal, by=manager, expected_close_date=company_today() + datetime.timedelta(days=9))
    opportunity_assign(opportunity_ids=[deal.pk], owner=outsider_rep, by=admin, team=other_team)
    assert event_teams(deal) == {other_team.pk}
    assert_every_event_has_its_deals_team()


def test_it_carries_the_status_changes_along_in_a_bulk_update(make_deal, rep, team, other_team):
    _postgresql_only()
    deals = [make_deal(owner=rep) for _ in range(3)]
    for deal in deals:
        StatusChange.objects.create(opportunity=deal, from_status=OPEN, to_status=WON, owner=rep)
    Opportunity.objects.filter(pk__in=[deals[0].pk, deals[1].pk]).update(team=other_team)
    assert [event_teams(deal) for deal in deals] == [{other_team.pk}, {other_team.pk}, {team.pk}]
    Opportunity.objects.filter(pk=deals[0].pk).update(team=team, title="Back again")
    assert event_teams(deals[0]) == {team.pk}
    assert_every_event_has_its_deals_team()


def test_it_gives_the_expiry_jobs_status_changes_their_team(make_deal, rep, other_rep, team):
    _postgresql_only()
    from opportunities.services import opportunities_expire_overdue

    today = company_today()
    for owner in (rep, other_rep, None):
        make_deal(owner=owner, expected_close_date=today - datetime.timedelta(days=40))
    assert opportunities_expire_overdue(today=today) == 3
    assert set(StatusChange.objects.values_list("to_status", "deal_team")) == {(Opportunity.Status.EXPIRED, team.pk)}
    assert_every_event_has_its_deals_team()


def test_a_managers_incentive_follows_a_won_deal_to_another_team(
    quick_deal, rep, other_rep, manager, outsider_manager, team, other_team
):
    """The home page reads a team's wins on the event's copy of the deal's team (PostgreSQL; on
    SQLite on the deal itself): moving a won deal (by hand: no service moves a closed deal) moves
    its payout to the other team's manager, as in the incentive report."""
    from opportunities.selectors import opportunity_incentive_month_to_date
    from opportunities.services import opportunity_close
    from reports.periods import Period, month_start
    from reports.selectors import report_incentives

    first = opportunity_close(opportunity=quick_deal(owner=rep), outcome=WON, by=rep)
    opportunity_close(opportunity=quick_deal(owner=other_rep), outcome=WON, by=other_rep)
    today = company_today()

    def shown_and_reported(viewer):
        shown = opportunity_incentive_month_to_date(user=viewer, today=today)
        totals = report_incentives(viewer=viewer, period=Period(month_start(today), today)).totals
        assert (shown["won_count"], shown["payout"]) == (totals["won"], totals["payout"])
        return shown["won_count"], shown["payout"]

    assert shown_and_reported(manager) == (2, Decimal("2000.00"))
    assert shown_and_reported(outsider_manager) == (0, Decimal("0.00"))
    Opportunity.objects.filter(pk=first.pk).update(team=other_team)
    assert shown_and_reported(manager) == (1, Decimal("1000.00"))
    assert shown_and_reported(outsider_manager) == (1, Decimal("1000.00"))
    assert shown_and_reported(rep) == (1, Decimal("1000.00"))  # still credited to who won it


def test_it_gives_a_status_change_its_team_even_where_ordinary_triggers_are_skipped(make_deal, rep, team):
    """The bench's bulk load writes with session_replication_role = replica."""
    _postgresql_only()
    from django.db import connection, transaction

    deal = make_deal(owner=rep)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "INSERT INTO opportunities_statuschange (at, from_status, to_status, reason, opportunity_id, owner_id)"
            " VALUES (now(), 'open', 'won', '', %s, %s)",
            [deal.pk, rep.pk],
        )
    assert event_teams(deal) == {team.pk}


def test_a_deal_written_after_its_status_changes_gives_them_its_team(make_deal, rep, team, other_team):
    """A load with deferred foreign keys may write the history before the deal."""
    _postgresql_only()
    from django.db import connection, transaction

    model = make_deal(owner=rep)
    columns = [f.column for f in Opportunity._meta.concrete_fields if f.column not in ("id", "team_id")]
    new_id = model.pk + 1000
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            "INSERT INTO opportunities_statuschange (at, from_status, to_status, reason, opportunity_id, owner_id)"
            " VALUES (%s, 'open', 'won', '', %s, %s)",
            [model.created_at, new_id, rep.pk],
        )
        cursor.execute(
            f"INSERT INTO opportunities_opportunity (id, team_id, {', '.join(columns)})"  # noqa: S608 (model columns)
            f" SELECT %s, %s, {', '.join(columns)} FROM opportunities_opportunity WHERE id = %s",
            [new_id, other_team.pk, model.pk],
        )
    assert event_teams(Opportunity.objects.get(pk=new_id)) == {other_team.pk}
    assert_every_event_has_its_deals_team()
