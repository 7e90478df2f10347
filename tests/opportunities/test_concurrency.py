"""What only real row locks can show: two workers, two connections (PostgreSQL only).

SQLite serialises whole-database writes and ignores SELECT … FOR UPDATE / SKIP LOCKED, so
these tests prove nothing there and are skipped.
"""

import datetime
import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from crm.dates import company_today
from crm.exceptions import ConflictError
from opportunities.models import Opportunity, StatusChange
from opportunities.services import opportunities_expire_overdue, opportunity_update
from tests.factories import OpportunityFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite has no row locks (SELECT … FOR UPDATE SKIP LOCKED is a no-op there)",
    ),
]


def run_in_threads(*targets, timeout: float = 60):
    """Run each callable in its own thread (so its own DB connection), starting them together."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)
    errors: list = [None] * len(targets)

    def runner(index, target):
        try:
            barrier.wait(timeout)
            results[index] = target()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a worker hung"
    return results, errors


def overdue_deals(n, *, team, pipeline, source, customer, owner):
    yesterday = company_today() - datetime.timedelta(days=1)
    built = OpportunityFactory.build_batch(
        n, team=team, pipeline=pipeline, source=source, customer=customer, owner=owner, expected_close_date=yesterday
    )
    return Opportunity.objects.bulk_create(built)


def test_it_expires_each_deal_once_when_two_runs_overlap(team, pipeline, source, customer, rep):
    deals = overdue_deals(600, team=team, pipeline=pipeline, source=source, customer=customer, owner=rep)

    def run():
        return opportunities_expire_overdue(batch_size=20)

    results, errors = run_in_threads(run, run)

    assert errors == [None, None]
    assert sum(results) == 600
    assert Opportunity.objects.filter(status=Opportunity.Status.EXPIRED).count() == 600
    per_deal = Counter(StatusChange.objects.values_list("opportunity_id", flat=True))
    assert len(per_deal) == 600
    assert set(per_deal.values()) == {1}
    assert set(per_deal) == {deal.pk for deal in deals}


def test_it_skips_a_deal_another_transaction_holds_instead_of_waiting(team, pipeline, source, customer, rep):
    held, free = overdue_deals(2, team=team, pipeline=pipeline, source=source, customer=customer, owner=rep)
    locked = threading.Event()
    release = threading.Event()

    def hold_the_row():
        # Stands for a rep winning the deal right now: the row is locked until they commit.
        with transaction.atomic():
            Opportunity.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(30)

    def expire_when_locked():
        assert locked.wait(30)
        try:
            return opportunities_expire_overdue()
        finally:
            release.set()

    results, errors = run_in_threads(hold_the_row, expire_when_locked)

    assert errors == [None, None]
    assert results[1] == 1
    assert Opportunity.objects.get(pk=held.pk).status == Opportunity.Status.OPEN
    assert Opportunity.objects.get(pk=free.pk).status == Opportunity.Status.EXPIRED
    assert list(StatusChange.objects.values_list("opportunity_id", flat=True)) == [free.pk]


def test_it_lets_only_one_of_two_simultaneous_edits_of_the_same_version_win(deal, rep, manager):
    def edit(by, title):
        return lambda: opportunity_update(opportunity=deal, by=by, version=1, title=title)

    results, errors = run_in_threads(edit(rep, "Rep's title"), edit(manager, "Manager's title"))

    assert sorted(type(error).__name__ for error in errors if error) == ["ConflictError"]
    assert all(isinstance(error, ConflictError) for error in errors if error)
    winner = next(result for result in results if result is not None)
    deal.refresh_from_db()
    assert (deal.title, deal.version) == (winner.title, 2)


def test_it_keeps_round_robin_fair_when_two_managers_distribute_at_once(
    team, pipeline, source, customer, manager, admin, rep, other_rep
):
    from opportunities.services import opportunity_distribute
    from tests.factories import UserFactory

    team.members.add(UserFactory(username="third_rep"))
    built = OpportunityFactory.build_batch(62, team=team, pipeline=pipeline, source=source, customer=customer)
    ids = [deal.pk for deal in Opportunity.objects.bulk_create(built)]

    def distribute(by, batch):
        return lambda: opportunity_distribute(opportunity_ids=batch, team=team, strategy="round_robin", by=by)

    # 31 each: a batch that started where the other one started would give one rep two extra deals.
    results, errors = run_in_threads(distribute(manager, ids[:31]), distribute(admin, ids[31:]))

    assert errors == [None, None]
    counts = Counter(Opportunity.objects.filter(pk__in=ids).values_list("owner", flat=True))
    assert sorted(counts.values()) == [20, 21, 21]


def test_it_gives_a_deal_created_during_a_rename_of_its_customer_the_new_name(team, pipeline, source, customer, rep):
    """The rename rewrites the deals it can see; a deal inserted meanwhile by another
    transaction waits for the rename to commit and reads the new name (search_text's trigger)."""
    from opportunities.selectors import opportunity_search_q

    renamed = threading.Event()
    committed = threading.Event()

    def rename():
        with transaction.atomic():
            customer.name = "Seoul Mirror Co"
            customer.save()
            renamed.set()
            committed.wait(1)  # the other insert starts while this rename is not committed
        return "renamed"

    def create():
        renamed.wait(30)
        timer = threading.Timer(0.5, committed.set)
        timer.start()
        deal = OpportunityFactory(team=team, pipeline=pipeline, source=source, customer=customer, owner=rep)
        timer.cancel()
        return deal.pk

    (_, pk), errors = run_in_threads(rename, create)
    assert errors == [None, None]
    assert list(Opportunity.objects.filter(opportunity_search_q("seoul mirror")).values_list("pk", flat=True)) == [pk]
