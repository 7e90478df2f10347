"""opportunity_assign, opportunity_distribute and opportunity_reassign_all."""

from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opportunities.models import Activity, Assignment, Opportunity, StageChange
from opportunities.services import (
    DistributionStrategy,
    opportunity_assign,
    opportunity_distribute,
    opportunity_owner_require,
    opportunity_owners_for_new,
    opportunity_reassign_all,
)
from tests.factories import ActivityFactory, OpportunityFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def owners(*deals) -> list:
    return [Opportunity.objects.get(pk=deal.pk).owner for deal in deals]


# --- assign ----------------------------------------------------------------------------------


def test_it_assigns_one_pool_deal_and_records_who_why_and_when(make_deal, manager, rep, team):
    deal = make_deal(owner=None)

    assert opportunity_assign(opportunity_ids=[deal.pk], owner=rep, by=manager, reason="Speaks German") == 1

    deal.refresh_from_db()
    assert (deal.owner, deal.version) == (rep, 2)
    row = Assignment.objects.get(opportunity=deal)
    assert (row.from_owner, row.to_owner, row.by, row.reason) == (None, rep, manager, "Speaks German")
    assert (row.from_team, row.to_team) == (team, team)
    assert row.at is not None


def test_it_assigns_many_with_one_row_per_deal_that_changed_hands(make_deal, manager, rep, other_rep):
    mine, theirs, pooled = make_deal(owner=rep), make_deal(owner=other_rep), make_deal(owner=None)

    moved = opportunity_assign(opportunity_ids=[mine.pk, theirs.pk, pooled.pk], owner=other_rep, by=manager)

    assert moved == 2
    assert owners(mine, theirs, pooled) == [other_rep, other_rep, other_rep]
    rows = {row.opportunity_id: (row.from_owner, row.to_owner) for row in Assignment.objects.all()}
    assert rows == {mine.pk: (rep, other_rep), pooled.pk: (None, other_rep)}


def test_it_returns_deals_to_the_pool(make_deal, manager, rep):
    deal = make_deal(owner=rep)

    opportunity_assign(opportunity_ids=[deal.pk], owner=None, by=manager, reason="Rep overloaded")

    assert owners(deal) == [None]
    row = Assignment.objects.get(opportunity=deal)
    assert (row.from_owner, row.to_owner) == (rep, None)


def test_it_lets_an_admin_assign(make_deal, admin, rep):
    deal = make_deal(owner=None)
    opportunity_assign(opportunity_ids=[deal.pk], owner=rep, by=admin)
    assert owners(deal) == [rep]


@pytest.mark.parametrize("actor", ["rep", "outsider_manager", "inactive_manager"])
def test_it_refuses_who_does_not_manage_the_team(make_deal, rep, other_rep, other_team, manager, actor, request):
    if actor == "inactive_manager":
        manager.is_active = False
        manager.save()
        by = manager
    else:
        by = request.getfixturevalue(actor)
    deal = make_deal(owner=rep)

    with pytest.raises(PermissionDenied):
        opportunity_assign(opportunity_ids=[deal.pk], owner=other_rep, by=by)

    assert owners(deal) == [rep]
    assert not Assignment.objects.exists()


def test_it_refuses_a_mixed_selection_with_a_deal_of_another_team(make_deal, manager, rep, other_team):
    ours, foreign = make_deal(owner=rep), make_deal(team=other_team, owner=None)
    with pytest.raises(PermissionDenied):
        opportunity_assign(opportunity_ids=[ours.pk, foreign.pk], owner=rep, by=manager)
    assert owners(ours, foreign) == [rep, None]


def test_it_does_not_reveal_closed_deals_of_other_teams(make_deal, outsider_manager, outsider_rep, other_team):
    secret = make_deal(owner=None, status=Opportunity.Status.WON, title="Secret tender")
    with pytest.raises(PermissionDenied) as excinfo:
        opportunity_assign(opportunity_ids=[secret.pk], owner=outsider_rep, by=outsider_manager)
    assert "Secret tender" not in str(excinfo.value)


def test_it_refuses_closed_deals_and_changes_none_of_the_selection(make_deal, manager, rep, other_rep):
    open_deal = make_deal(owner=rep)
    won = make_deal(owner=rep, status=Opportunity.Status.WON, title="Won already")

    with pytest.raises(ValidationError) as excinfo:
        opportunity_assign(opportunity_ids=[open_deal.pk, won.pk], owner=other_rep, by=manager)

    assert "Won already" in excinfo.value.messages[0]
    assert owners(open_deal, won) == [rep, rep]
    assert not Assignment.objects.exists()


def test_it_refuses_an_owner_outside_the_team(make_deal, manager, rep, outsider_rep, other_team):
    deal = make_deal(owner=rep)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_assign(opportunity_ids=[deal.pk], owner=outsider_rep, by=manager)
    assert "owner" in excinfo.value.message_dict
    assert owners(deal) == [rep]


def test_it_refuses_a_deactivated_owner(make_deal, manager, rep, inactive_rep):
    deal = make_deal(owner=rep)
    with pytest.raises(ValidationError):
        opportunity_assign(opportunity_ids=[deal.pk], owner=inactive_rep, by=manager)
    assert owners(deal) == [rep]


def test_it_refuses_an_empty_or_unknown_selection(manager, rep, team):
    with pytest.raises(ValidationError):
        opportunity_assign(opportunity_ids=[], owner=rep, by=manager)
    with pytest.raises(ValidationError):
        opportunity_assign(opportunity_ids=[987654], owner=rep, by=manager)


def test_it_moves_deals_to_another_team_the_manager_also_runs(make_deal, manager, rep, outsider_rep, other_team):
    other_team.managers.add(manager)
    deal = make_deal(owner=rep)
    home = deal.team

    opportunity_assign(opportunity_ids=[deal.pk], owner=outsider_rep, by=manager, team=other_team)

    deal.refresh_from_db()
    assert (deal.owner, deal.team) == (outsider_rep, other_team)
    row = Assignment.objects.get(opportunity=deal)
    assert (row.from_team, row.to_team) == (home, other_team)


# --- distribute ---------------------------------------------------------------------------------


@pytest.fixture
def third_rep(team):
    user = UserFactory(username="third_rep")
    team.members.add(user)
    return user


@pytest.fixture
def bulk_pool(team, pipeline, source, customer):
    """Create ``n`` unassigned open deals in ``team`` in one INSERT; returns their ids in order."""

    def make(n: int) -> list[int]:
        built = OpportunityFactory.build_batch(n, team=team, pipeline=pipeline, source=source, customer=customer)
        return [deal.pk for deal in Opportunity.objects.bulk_create(built)]

    return make


def test_it_spreads_1000_deals_round_robin_within_one_skipping_a_deactivated_rep(
    bulk_pool, team, manager, rep, other_rep, third_rep, inactive_rep
):
    ids = bulk_pool(1000)

    given = opportunity_distribute(
        opportunity_ids=ids, team=team, strategy=DistributionStrategy.ROUND_ROBIN, by=manager
    )

    counts = Counter(Opportunity.objects.filter(pk__in=ids).values_list("owner", flat=True))
    assert set(counts) == {rep.pk, other_rep.pk, third_rep.pk}
    assert sorted(counts.values()) == [333, 333, 334]
    assert given == dict(counts)
    assert Assignment.objects.count() == 1000
    assert not Opportunity.objects.filter(owner=inactive_rep).exists()


def test_it_continues_round_robin_from_the_last_batch(bulk_pool, team, manager, rep, other_rep, third_rep):
    first = opportunity_distribute(
        opportunity_ids=bulk_pool(4), team=team, strategy=DistributionStrategy.ROUND_ROBIN, by=manager
    )
    assert sorted(first.values()) == [1, 1, 2]
    team.refresh_from_db()
    assert team.round_robin_last is not None

    second = opportunity_distribute(
        opportunity_ids=bulk_pool(5), team=team, strategy=DistributionStrategy.ROUND_ROBIN, by=manager
    )

    totals = Counter(first) + Counter(second)
    assert sorted(totals.values()) == [3, 3, 3]


def test_it_continues_round_robin_when_the_last_rep_was_deactivated(bulk_pool, team, manager, rep, other_rep):
    opportunity_distribute(opportunity_ids=bulk_pool(1), team=team, strategy="round_robin", by=manager)
    team.refresh_from_db()
    last = team.round_robin_last
    last.is_active = False
    last.save()

    given = opportunity_distribute(opportunity_ids=bulk_pool(2), team=team, strategy="round_robin", by=manager)

    assert last.pk not in given
    assert sum(given.values()) == 2


def test_it_gives_to_the_least_loaded(bulk_pool, make_deal, team, manager, rep, other_rep, third_rep):
    for _ in range(3):
        make_deal(owner=rep)
    make_deal(owner=other_rep)
    for _ in range(5):  # closed deals are no load
        make_deal(owner=third_rep, status=Opportunity.Status.WON)

    given = opportunity_distribute(opportunity_ids=bulk_pool(4), team=team, strategy="least_loaded", by=manager)

    assert rep.pk not in given
    loads = Counter(Opportunity.objects.open().values_list("owner", flat=True))
    assert loads[rep.pk] == 3
    assert sorted([loads[other_rep.pk], loads[third_rep.pk]]) == [2, 3]


def test_it_distributes_only_to_the_chosen_reps(bulk_pool, team, manager, rep, other_rep, third_rep):
    given = opportunity_distribute(
        opportunity_ids=bulk_pool(6), team=team, strategy="round_robin", by=manager, reps=[rep, third_rep]
    )
    assert given == {rep.pk: 3, third_rep.pk: 3}


def test_it_refuses_a_chosen_rep_outside_the_team(bulk_pool, team, manager, rep, outsider_rep, other_team):
    ids = bulk_pool(2)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_distribute(
            opportunity_ids=ids, team=team, strategy="round_robin", by=manager, reps=[rep, outsider_rep]
        )
    assert "reps" in excinfo.value.message_dict
    assert not Opportunity.objects.filter(owner__isnull=False).exists()


def test_it_refuses_a_team_with_no_active_reps(pipeline, source, customer, manager, inactive_rep):
    empty = TeamFactory(name="Closed office", members=[inactive_rep], managers=[manager])
    deal = OpportunityFactory(team=empty, pipeline=pipeline, source=source, customer=customer)

    with pytest.raises(ValidationError) as excinfo:
        opportunity_distribute(opportunity_ids=[deal.pk], team=empty, strategy="round_robin", by=manager)

    assert "team" in excinfo.value.message_dict
    assert owners(deal) == [None]
    assert not Assignment.objects.exists()


def test_it_refuses_an_unknown_strategy(bulk_pool, team, manager, rep):
    with pytest.raises(ValidationError):
        opportunity_distribute(opportunity_ids=bulk_pool(1), team=team, strategy="random", by=manager)


def test_it_refuses_distribution_by_a_manager_of_another_team(bulk_pool, team, outsider_manager, rep, other_team):
    ids = bulk_pool(3)
    with pytest.raises(PermissionDenied):
        opportunity_distribute(opportunity_ids=ids, team=team, strategy="round_robin", by=outsider_manager)
    with pytest.raises(PermissionDenied):
        opportunity_distribute(opportunity_ids=ids, team=other_team, strategy="round_robin", by=outsider_manager)
    assert not Opportunity.objects.filter(owner__isnull=False).exists()
    team.refresh_from_db()
    assert team.round_robin_last is None


def test_it_chooses_owners_for_new_deals_continuing_the_same_round_robin(
    bulk_pool, team, manager, rep, other_rep, third_rep
):
    """The import sets owners before it inserts: the same pointer as opportunity_distribute."""
    first = opportunity_distribute(opportunity_ids=bulk_pool(2), team=team, strategy="round_robin", by=manager)
    team.refresh_from_db()

    owners = opportunity_owners_for_new(team=team, strategy="round_robin", count=4, by=manager)

    totals = Counter(first) + Counter(owner.pk for owner in owners)
    assert sorted(totals.values()) == [2, 2, 2]
    team.refresh_from_db()
    assert team.round_robin_last == owners[-1]


def test_it_chooses_the_least_loaded_owners_for_new_deals(make_deal, team, manager, rep, other_rep):
    for _ in range(3):
        make_deal(owner=rep)
    owners = opportunity_owners_for_new(team=team, strategy="least_loaded", count=5, by=manager)
    assert Counter(owner.pk for owner in owners) == {other_rep.pk: 4, rep.pk: 1}


def test_it_refuses_owners_for_new_deals_to_a_manager_of_another_team(team, outsider_manager, rep):
    with pytest.raises(PermissionDenied):
        opportunity_owners_for_new(team=team, strategy="round_robin", count=3, by=outsider_manager)
    with pytest.raises(PermissionDenied):
        opportunity_owner_require(owner=rep, team=team, by=outsider_manager)
    team.refresh_from_db()
    assert team.round_robin_last is None


def test_it_requires_an_active_member_as_the_owner_of_new_deals(team, manager, rep, outsider_rep, inactive_rep):
    opportunity_owner_require(owner=rep, team=team, by=manager)
    for owner in (outsider_rep, inactive_rep):
        with pytest.raises(ValidationError):
            opportunity_owner_require(owner=owner, team=team, by=manager)


# --- reassign_all --------------------------------------------------------------------------------


@pytest.fixture
def reps_book(make_deal, rep, manager, stages):
    """rep's deals: three open at different stages (one with a manual probability), one won, one lost."""
    new = make_deal(owner=rep)
    sample = make_deal(owner=rep, stage=stages["Sample"], probability=65, probability_is_manual=True)
    quote = make_deal(owner=rep, stage=stages["Quote"])
    won = make_deal(owner=rep, stage=stages["Won"], status=Opportunity.Status.WON)
    lost = make_deal(owner=rep, stage=stages["Lost"], status=Opportunity.Status.LOST)
    for deal in (new, sample, quote):
        ActivityFactory(opportunity=deal, author=rep, tracking_number="SF1234567890")
    return {"open": [new, sample, quote], "closed": [won, lost]}


def test_it_hands_every_open_deal_to_the_successor_keeping_stage_and_history(reps_book, rep, other_rep, manager):
    before = {deal.pk: (deal.stage_id, deal.probability, deal.probability_is_manual) for deal in reps_book["open"]}
    history = (StageChange.objects.count(), Activity.objects.count())

    moved = opportunity_reassign_all(from_owner=rep, to_owner=other_rep, by=manager, reason="Rep left")

    assert moved == 3
    for deal in reps_book["open"]:
        deal.refresh_from_db()
        assert deal.owner == other_rep
        assert (deal.stage_id, deal.probability, deal.probability_is_manual) == before[deal.pk]
    assert (StageChange.objects.count(), Activity.objects.count()) == history
    rows = Assignment.objects.all()
    assert sorted(row.opportunity_id for row in rows) == sorted(deal.pk for deal in reps_book["open"])
    assert {(row.from_owner_id, row.to_owner_id, row.by_id, row.reason) for row in rows} == {
        (rep.pk, other_rep.pk, manager.pk, "Rep left")
    }
    assert owners(*reps_book["closed"]) == [rep, rep]


def test_it_sends_the_deals_to_the_pool_without_successor(reps_book, rep, manager):
    assert opportunity_reassign_all(from_owner=rep, to_owner=None, by=manager) == 3
    assert owners(*reps_book["open"]) == [None, None, None]


def test_it_refuses_a_successor_outside_a_team_and_changes_nothing(reps_book, rep, manager, outsider_rep, other_team):
    with pytest.raises(ValidationError):
        opportunity_reassign_all(from_owner=rep, to_owner=outsider_rep, by=manager)
    assert owners(*reps_book["open"]) == [rep, rep, rep]
    assert not Assignment.objects.exists()


def test_it_refuses_a_successor_missing_from_one_of_the_teams(
    reps_book, make_deal, rep, other_rep, manager, other_team
):
    rep_abroad = make_deal(owner=rep, team=other_team)
    other_team.managers.add(manager)
    with pytest.raises(ValidationError):
        opportunity_reassign_all(from_owner=rep, to_owner=other_rep, by=manager)
    assert owners(rep_abroad, *reps_book["open"]) == [rep, rep, rep, rep]


def test_it_refuses_reassignment_by_a_manager_of_another_team(reps_book, rep, other_rep, outsider_manager):
    with pytest.raises(PermissionDenied):
        opportunity_reassign_all(from_owner=rep, to_owner=other_rep, by=outsider_manager)
    assert owners(*reps_book["open"]) == [rep, rep, rep]


def test_it_refuses_reassignment_by_a_rep(reps_book, rep, other_rep):
    with pytest.raises(PermissionDenied):
        opportunity_reassign_all(from_owner=rep, to_owner=other_rep, by=other_rep)
    assert owners(*reps_book["open"]) == [rep, rep, rep]


def test_it_refuses_the_same_person_as_successor(reps_book, rep, manager):
    with pytest.raises(ValidationError):
        opportunity_reassign_all(from_owner=rep, to_owner=rep, by=manager)
