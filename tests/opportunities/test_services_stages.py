"""opportunity_move_stage, opportunity_close and opportunity_reopen: the deal's way through its pipeline.

The fixture pipeline: New (10 %) → Sample (50 %, needs an attachment and a tracking number) →
Quote (70 %, needs the amount) → Won (100 %) / Lost (0 %).
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.dates import company_today
from crm.exceptions import ConflictError
from opportunities.models import CloseDateChange, Opportunity, StageChange, StatusChange
from opportunities.services import (
    opportunity_add_activity,
    opportunity_close,
    opportunity_create,
    opportunity_move_stage,
    opportunity_reopen,
    opportunity_update,
)
from stages.models import Stage
from tests.factories import LostReasonFactory, PipelineFactory, upload

pytestmark = pytest.mark.django_db

WON, LOST, OPEN = Opportunity.Status.WON, Opportunity.Status.LOST, Opportunity.Status.OPEN


def in_days(days: int) -> datetime.date:
    return company_today() + datetime.timedelta(days=days)


def stage_changes(deal) -> list[tuple[str | None, str, int | None, int]]:
    return [
        (
            row.from_stage.name if row.from_stage else None,
            row.to_stage.name,
            row.probability_before,
            row.probability_after,
        )
        for row in StageChange.objects.filter(opportunity=deal).select_related("from_stage", "to_stage")
    ]


def snapshot(deal) -> tuple:
    deal = Opportunity.objects.get(pk=deal.pk)
    return (
        deal.stage_id,
        deal.status,
        deal.probability,
        deal.version,
        deal.closed_at,
        StageChange.objects.count(),
        StatusChange.objects.count(),
    )


@pytest.fixture
def in_sample(deal, rep, stages):
    """The deal, moved by the rep into the Sample stage (which has exit criteria)."""
    return opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)


def add_evidence(deal, by, *, photo=True, tracking=True):
    opportunity_add_activity(
        opportunity=deal,
        by=by,
        kind="sample",
        body="Sample shipped",
        carrier="SF Express" if tracking else "",
        tracking_number="SF1234567890" if tracking else "",
        files=[upload("sample.png")] if photo else [],
    )


# --- moving ----------------------------------------------------------------------------------


def test_it_moves_forward_with_the_probability_of_the_new_stage(deal, rep, stages):
    entered = deal.stage_entered_at

    moved = opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep, note="Buyer wants a sample")

    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.version) == (stages["Sample"], 50, 2)
    assert deal.stage_entered_at > entered
    assert moved.stage == stages["Sample"]
    change = StageChange.objects.filter(opportunity=deal).latest("pk")
    assert (change.from_stage, change.to_stage, change.by, change.note) == (
        stages["New"],
        stages["Sample"],
        rep,
        "Buyer wants a sample",
    )
    assert (change.probability_before, change.probability_after) == (10, 50)


def test_it_blocks_leaving_a_stage_without_its_evidence_and_changes_nothing(in_sample, rep, stages):
    before = snapshot(in_sample)

    with pytest.raises(ValidationError) as excinfo:
        opportunity_move_stage(opportunity=in_sample, stage=stages["Quote"], by=rep)

    messages = excinfo.value.messages
    assert len(messages) == 2
    assert any("Attach a file" in message and "Sample" in message for message in messages)
    assert any("tracking number" in message and "Sample" in message for message in messages)
    assert snapshot(in_sample) == before


def test_it_lists_only_what_is_still_missing(in_sample, rep, stages):
    add_evidence(in_sample, rep, photo=True, tracking=False)

    with pytest.raises(ValidationError) as excinfo:
        opportunity_move_stage(opportunity=in_sample, stage=stages["Quote"], by=rep)

    [message] = excinfo.value.messages
    assert "tracking number" in message


def test_it_lets_evidence_recorded_in_the_stage_unblock_it(in_sample, rep, stages):
    add_evidence(in_sample, rep)

    opportunity_move_stage(opportunity=in_sample, stage=stages["Quote"], by=rep)

    in_sample.refresh_from_db()
    assert (in_sample.stage, in_sample.probability) == (stages["Quote"], 70)


def test_it_does_not_count_evidence_recorded_in_another_stage(deal, rep, stages):
    add_evidence(deal, rep)  # recorded while still in New
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)

    with pytest.raises(ValidationError):
        opportunity_move_stage(opportunity=deal, stage=stages["Quote"], by=rep)
    deal.refresh_from_db()
    assert deal.stage == stages["Sample"]


def test_it_allows_moving_back_without_evidence(in_sample, rep, stages):
    opportunity_move_stage(opportunity=in_sample, stage=stages["New"], by=rep)
    in_sample.refresh_from_db()
    assert (in_sample.stage, in_sample.probability) == (stages["New"], 10)


def test_it_enforces_required_fields_on_a_win(make_deal, rep, stages):
    deal = make_deal(owner=rep, stage=stages["Quote"], amount=None, amount_base=None)
    before = snapshot(deal)

    with pytest.raises(ValidationError) as excinfo:
        opportunity_move_stage(opportunity=deal, stage=stages["Won"], by=rep)

    assert "Amount" in excinfo.value.messages[0]
    assert snapshot(deal) == before


def test_it_keeps_a_manual_probability_across_moves(deal, manager, rep, stages):
    opportunity_update(opportunity=deal, by=manager, version=1, probability=80)

    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    opportunity_move_stage(opportunity=deal, stage=stages["New"], by=rep)

    deal.refresh_from_db()
    assert (deal.probability, deal.probability_is_manual) == (80, True)
    assert stage_changes(deal)[-2:] == [("New", "Sample", 80, 80), ("Sample", "New", 80, 80)]


def test_it_refuses_a_stage_of_another_pipeline(deal, rep):
    foreign = PipelineFactory(name="Spare parts").first_open_stage()
    before = snapshot(deal)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_move_stage(opportunity=deal, stage=foreign, by=rep)
    assert "stage" in excinfo.value.message_dict
    assert snapshot(deal) == before


def test_it_does_nothing_when_the_stage_is_the_current_one(deal, rep, stages):
    before = snapshot(deal)
    opportunity_move_stage(opportunity=deal, stage=stages["New"], by=rep)
    assert snapshot(deal) == before


@pytest.mark.parametrize("actor", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_refuses_who_may_not_work_the_deal(deal, stages, actor, other_team, request):
    before = snapshot(deal)
    with pytest.raises(PermissionDenied):
        opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=request.getfixturevalue(actor))
    assert snapshot(deal) == before


def test_it_lets_the_manager_move_a_deal_of_the_team(deal, manager, stages):
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=manager)
    assert StageChange.objects.filter(opportunity=deal).latest("pk").by == manager


def test_it_refuses_a_stale_version(deal, rep, stages):
    with pytest.raises(ConflictError):
        opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep, version=7)
    deal.refresh_from_db()
    assert deal.stage == stages["New"]


def test_it_closes_as_won_when_moved_to_the_won_stage(make_deal, rep, stages):
    deal = make_deal(owner=rep, stage=stages["Quote"])

    opportunity_move_stage(opportunity=deal, stage=stages["Won"], by=rep)

    deal.refresh_from_db()
    assert (deal.status, deal.stage, deal.probability) == (WON, stages["Won"], 100)
    assert deal.closed_at is not None
    row = StatusChange.objects.get(opportunity=deal)
    assert (row.from_status, row.to_status, row.owner, row.by) == (OPEN, WON, rep, rep)


def test_it_needs_a_lost_reason_to_enter_a_lost_stage(in_sample, rep, stages, lost_reason):
    before = snapshot(in_sample)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_move_stage(opportunity=in_sample, stage=stages["Lost"], by=rep)
    assert "lost_reason" in excinfo.value.message_dict
    assert snapshot(in_sample) == before

    # A deal that dies at the sample stage needs no sample photo to be marked lost.
    opportunity_move_stage(opportunity=in_sample, stage=stages["Lost"], by=rep, lost_reason=lost_reason)

    in_sample.refresh_from_db()
    assert (in_sample.status, in_sample.stage, in_sample.lost_reason, in_sample.probability) == (
        LOST,
        stages["Lost"],
        lost_reason,
        0,
    )
    assert StatusChange.objects.get(opportunity=in_sample).lost_reason == lost_reason


def test_it_closes_into_the_chosen_lost_stage(make_deal, rep, lost_reason):
    pipeline = PipelineFactory(
        name="Two ways to lose",
        stages=[
            {"name": "Open", "probability": 20},
            {"name": "Won", "probability": 100, "kind": Stage.Kind.WON},
            {"name": "Lost to price", "probability": 0, "kind": Stage.Kind.LOST},
            {"name": "No answer", "probability": 0, "kind": Stage.Kind.LOST},
        ],
    )
    deal = make_deal(owner=rep, pipeline=pipeline)
    silent = pipeline.stages.get(name="No answer")

    opportunity_move_stage(opportunity=deal, stage=silent, by=rep, lost_reason=lost_reason)

    deal.refresh_from_db()
    assert (deal.status, deal.stage) == (LOST, silent)


def test_it_refuses_moving_a_closed_deal(make_deal, rep, stages):
    deal = make_deal(owner=rep, stage=stages["Won"], status=WON)
    with pytest.raises(ValidationError):
        opportunity_move_stage(opportunity=deal, stage=stages["New"], by=rep)
    deal.refresh_from_db()
    assert deal.stage == stages["Won"]


# --- closing ----------------------------------------------------------------------------------


def test_it_closes_as_won_crediting_the_owner(make_deal, manager, rep, stages):
    deal = make_deal(owner=rep, stage=stages["Quote"])

    opportunity_close(opportunity=deal, outcome=WON, by=manager, reason="PO received")

    deal.refresh_from_db()
    assert (deal.status, deal.stage, deal.probability, deal.close_reason) == (WON, stages["Won"], 100, "PO received")
    row = StatusChange.objects.get(opportunity=deal)
    assert (row.to_status, row.owner, row.by, row.reason) == (WON, rep, manager, "PO received")
    assert stage_changes(deal)[-1] == ("Quote", "Won", 70, 100)


def test_it_refuses_a_win_without_an_owner(make_deal, manager, stages):
    deal = make_deal(owner=None, stage=stages["Quote"])
    before = snapshot(deal)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_close(opportunity=deal, outcome=WON, by=manager)
    assert "owner" in excinfo.value.message_dict
    assert snapshot(deal) == before


def test_it_enforces_exit_criteria_on_a_win(in_sample, rep):
    before = snapshot(in_sample)
    with pytest.raises(ValidationError):
        opportunity_close(opportunity=in_sample, outcome=WON, by=rep)
    assert snapshot(in_sample) == before


def test_it_closes_as_lost_with_a_reason(in_sample, rep, stages, lost_reason):
    opportunity_close(opportunity=in_sample, outcome=LOST, by=rep, lost_reason=lost_reason, reason="Chose Vietnam")

    in_sample.refresh_from_db()
    assert (in_sample.status, in_sample.stage, in_sample.lost_reason) == (LOST, stages["Lost"], lost_reason)
    row = StatusChange.objects.get(opportunity=in_sample)
    assert (row.to_status, row.lost_reason, row.reason, row.owner) == (LOST, lost_reason, "Chose Vietnam", rep)


def test_it_refuses_a_loss_without_a_reason(deal, rep):
    before = snapshot(deal)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_close(opportunity=deal, outcome=LOST, by=rep)
    assert "lost_reason" in excinfo.value.message_dict
    assert snapshot(deal) == before


def test_it_refuses_a_retired_lost_reason(deal, rep):
    with pytest.raises(ValidationError):
        opportunity_close(
            opportunity=deal, outcome=LOST, by=rep, lost_reason=LostReasonFactory(name="Old", is_active=False)
        )
    deal.refresh_from_db()
    assert deal.status == OPEN


def test_it_refuses_closing_a_closed_deal(deal, rep, lost_reason):
    opportunity_close(opportunity=deal, outcome=LOST, by=rep, lost_reason=lost_reason)
    before = snapshot(deal)
    with pytest.raises(ValidationError):
        opportunity_close(opportunity=deal, outcome=LOST, by=rep, lost_reason=lost_reason)
    assert snapshot(deal) == before


def test_it_refuses_an_unknown_outcome(deal, rep):
    with pytest.raises(ValidationError):
        opportunity_close(opportunity=deal, outcome="expired", by=rep)


def test_it_refuses_closing_another_reps_deal(deal, other_rep, lost_reason):
    with pytest.raises(PermissionDenied):
        opportunity_close(opportunity=deal, outcome=LOST, by=other_rep, lost_reason=lost_reason)


# --- reopening ---------------------------------------------------------------------------------


def test_it_reopens_into_the_stage_it_was_closed_from(in_sample, manager, rep, stages, lost_reason):
    opportunity_close(opportunity=in_sample, outcome=LOST, by=rep, lost_reason=lost_reason)

    opportunity_reopen(opportunity=in_sample, by=manager, expected_close_date=in_days(14), reason="Buyer came back")

    in_sample.refresh_from_db()
    assert (in_sample.status, in_sample.stage, in_sample.probability) == (OPEN, stages["Sample"], 50)
    assert (in_sample.closed_at, in_sample.lost_reason, in_sample.close_reason) == (None, None, "")
    assert in_sample.expected_close_date == in_days(14)
    assert stage_changes(in_sample)[-1] == ("Lost", "Sample", 0, 50)
    reopened = StatusChange.objects.filter(opportunity=in_sample).latest("pk")
    assert (reopened.from_status, reopened.to_status, reopened.by) == (LOST, OPEN, manager)


def test_it_refuses_a_rep_reopening(deal, rep, lost_reason):
    opportunity_close(opportunity=deal, outcome=LOST, by=rep, lost_reason=lost_reason)
    before = snapshot(deal)
    with pytest.raises(PermissionDenied):
        opportunity_reopen(opportunity=deal, by=rep, expected_close_date=in_days(3))
    assert snapshot(deal) == before


def test_it_refuses_a_manager_of_another_team_reopening(deal, rep, outsider_manager, other_team, lost_reason):
    opportunity_close(opportunity=deal, outcome=LOST, by=rep, lost_reason=lost_reason)
    with pytest.raises(PermissionDenied):
        opportunity_reopen(opportunity=deal, by=outsider_manager, expected_close_date=in_days(3))


def test_it_needs_a_close_date_of_today_or_later_to_reopen(make_deal, manager, rep):
    expired = make_deal(owner=rep, status=Opportunity.Status.EXPIRED, expected_close_date=in_days(-3))
    before = snapshot(expired)

    for bad in (None, in_days(-1)):
        with pytest.raises(ValidationError) as excinfo:
            opportunity_reopen(opportunity=expired, by=manager, expected_close_date=bad)
        assert "expected_close_date" in excinfo.value.message_dict
        assert snapshot(expired) == before

    opportunity_reopen(opportunity=expired, by=manager, expected_close_date=company_today())

    expired.refresh_from_db()
    assert (expired.status, expired.expected_close_date) == (OPEN, company_today())
    change = CloseDateChange.objects.get(opportunity=expired)
    assert (change.old_date, change.new_date, change.by) == (in_days(-3), company_today(), manager)


def test_it_refuses_reopening_an_open_deal(deal, manager):
    with pytest.raises(ValidationError):
        opportunity_reopen(opportunity=deal, by=manager, expected_close_date=in_days(3))


# --- probability on every path ------------------------------------------------------------------


def test_it_sets_the_probability_from_the_stage_on_every_path(
    customer, team, pipeline, source, rep, manager, stages, lost_reason
):
    deal = opportunity_create(
        by=rep,
        title="Path",
        customer=customer,
        pipeline=pipeline,
        source=source,
        expected_close_date=in_days(20),
        stage=stages["Quote"],
        amount="5000",
    )
    assert deal.probability == 70  # create
    opportunity_move_stage(opportunity=deal, stage=stages["New"], by=rep)
    assert Opportunity.objects.get(pk=deal.pk).probability == 10  # move back
    # Jumping forward over Sample needs its evidence, provided in the stage being left.
    opportunity_add_activity(
        opportunity=deal, by=rep, kind="sample", carrier="SF", tracking_number="SF1", files=[upload()]
    )
    opportunity_move_stage(opportunity=deal, stage=stages["Quote"], by=rep)
    assert Opportunity.objects.get(pk=deal.pk).probability == 70  # move forward
    opportunity_close(opportunity=deal, outcome=LOST, by=rep, lost_reason=lost_reason)
    assert Opportunity.objects.get(pk=deal.pk).probability == 0  # close as lost
    opportunity_reopen(opportunity=deal, by=manager)
    assert Opportunity.objects.get(pk=deal.pk).probability == 70  # reopen
    opportunity_close(opportunity=deal, outcome=WON, by=rep)
    assert Opportunity.objects.get(pk=deal.pk).probability == 100  # close as won
    assert [row[3] for row in stage_changes(deal)] == [70, 10, 70, 0, 70, 100]


def test_it_refuses_to_jump_over_a_gated_stage_without_its_evidence(make_deal, rep, stages):
    deal = make_deal(owner=rep, stage=stages["New"])
    before = snapshot(deal)
    with pytest.raises(ValidationError) as excinfo:
        opportunity_move_stage(opportunity=deal, stage=stages["Quote"], by=rep)
    assert any("Sample" in message for message in excinfo.value.messages)
    assert snapshot(deal) == before


def test_it_closes_the_back_and_forth_bypass_of_a_gate(make_deal, rep, stages):
    # Sample → New → Quote must not skip the sample evidence that Sample → Quote would need.
    deal = make_deal(owner=rep, stage=stages["Sample"], amount="100")
    opportunity_move_stage(opportunity=deal, stage=stages["New"], by=rep)
    with pytest.raises(ValidationError):
        opportunity_move_stage(opportunity=deal, stage=stages["Quote"], by=rep)
    with pytest.raises(ValidationError):
        opportunity_close(opportunity=deal, outcome=WON, by=rep)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["New"]


def test_it_lets_evidence_recorded_in_the_gated_stage_count_after_going_back(make_deal, rep, stages):
    deal = make_deal(owner=rep, stage=stages["Sample"], amount="100")
    opportunity_add_activity(
        opportunity=deal, by=rep, kind="sample", carrier="DHL", tracking_number="DHL9", files=[upload()]
    )
    opportunity_move_stage(opportunity=deal, stage=stages["New"], by=rep)
    opportunity_move_stage(opportunity=deal, stage=stages["Quote"], by=rep)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Quote"]
