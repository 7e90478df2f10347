"""Pipeline configuration rules: stage kinds, deletable stages, required fields."""

import pytest
from django.core.exceptions import ValidationError

from opportunities.services import opportunity_move_stage
from stages.models import Pipeline, Stage
from stages.services import (
    pipeline_check_stage_kinds,
    pipeline_create,
    stage_check_deletable,
    stage_check_required_fields,
)
from tests.factories import ActivityFactory, PipelineFactory

OPEN, WON, LOST = Stage.Kind.OPEN, Stage.Kind.WON, Stage.Kind.LOST


@pytest.mark.parametrize("kinds", [[OPEN, WON, LOST], [OPEN, OPEN, WON, LOST, LOST]], ids=["minimal", "two-lost"])
def test_it_accepts_one_won_and_at_least_one_lost_stage(kinds):
    pipeline_check_stage_kinds(kinds=kinds)


def test_it_sets_no_cap_on_the_number_of_stages():
    pipeline_check_stage_kinds(kinds=[OPEN] * 60 + [WON, LOST])


@pytest.mark.parametrize(
    "kinds, expected",
    [
        ([OPEN, LOST], "exactly one won stage (it has 0)"),
        ([OPEN, WON, WON, LOST], "exactly one won stage (it has 2)"),
        ([OPEN, WON], "at least one lost stage"),
        ([WON, LOST], "at least one open stage"),
    ],
    ids=["no-won", "two-won", "no-lost", "no-open"],
)
def test_it_refuses_a_pipeline_with_the_wrong_stage_kinds(kinds, expected):
    with pytest.raises(ValidationError) as excinfo:
        pipeline_check_stage_kinds(kinds=kinds)
    assert any(expected in message for message in excinfo.value.messages)


def test_it_lists_every_problem_at_once():
    with pytest.raises(ValidationError) as excinfo:
        pipeline_check_stage_kinds(kinds=[OPEN])
    assert len(excinfo.value.messages) == 2


@pytest.mark.django_db
def test_it_creates_a_pipeline_with_ordered_stages():
    pipeline = pipeline_create(
        name="Moulds",
        stages=[
            {"name": "取得销售机会", "probability": 5},
            {"name": "提供样品", "probability": 40, "requires_attachment": True, "requires_tracking_number": True},
            {"name": "报价", "probability": 60, "required_fields": ["amount", "contact"]},
            {"name": "赢单", "probability": 100, "kind": WON},
            {"name": "输单", "probability": 0, "kind": LOST},
        ],
    )
    names = list(pipeline.stages.order_by("order").values_list("name", flat=True))
    assert names == ["取得销售机会", "提供样品", "报价", "赢单", "输单"]
    assert pipeline.first_open_stage().name == "取得销售机会"
    assert pipeline.won_stage().name == "赢单"
    assert pipeline.stages.get(name="提供样品").has_exit_criteria


@pytest.mark.django_db
def test_it_creates_nothing_for_a_pipeline_with_bad_kinds():
    with pytest.raises(ValidationError):
        pipeline_create(name="Broken", stages=[{"name": "Open"}, {"name": "Won", "kind": WON}])
    assert not Pipeline.objects.exists()


@pytest.mark.django_db
def test_it_creates_nothing_for_an_unknown_required_field():
    with pytest.raises(ValidationError) as excinfo:
        pipeline_create(
            name="Broken",
            stages=[
                {"name": "Open", "required_fields": ["budget"]},
                {"name": "Won", "kind": WON},
                {"name": "Lost", "kind": LOST},
            ],
        )
    assert "budget" in excinfo.value.messages[0]
    assert not Pipeline.objects.exists()
    assert not Stage.objects.exists()


@pytest.mark.parametrize("fields", ["amount", [1], {"amount": True}])
def test_it_refuses_required_fields_that_are_not_a_list_of_names(fields):
    with pytest.raises(ValidationError):
        stage_check_required_fields(fields=fields)


def test_it_accepts_known_required_fields():
    assert stage_check_required_fields(fields=["amount", "description"]) == ["amount", "description"]


@pytest.mark.django_db
def test_it_lets_an_unused_stage_be_deleted(pipeline):
    stage_check_deletable(stage=pipeline.stages.get(name="Quote"))


@pytest.mark.django_db
def test_it_refuses_deleting_a_stage_holding_deals_saying_how_many(make_deal, rep, stages):
    make_deal(owner=rep)
    make_deal(owner=None)
    with pytest.raises(ValidationError) as excinfo:
        stage_check_deletable(stage=stages["New"])
    [message] = excinfo.value.messages
    assert "New" in message and "2 opportunities" in message and "move them" in message


@pytest.mark.django_db
def test_it_refuses_deleting_a_stage_in_past_history(deal, rep, stages):
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    opportunity_move_stage(opportunity=deal, stage=stages["New"], by=rep)
    # No deal sits in Sample any more, but one passed through it.
    with pytest.raises(ValidationError) as excinfo:
        stage_check_deletable(stage=stages["Sample"])
    assert "history" in excinfo.value.messages[0]


@pytest.mark.django_db
def test_it_refuses_deleting_a_stage_that_tagged_activities(make_deal, rep, stages):
    other = PipelineFactory(name="Other")
    ActivityFactory(opportunity=make_deal(owner=rep), stage=stages["Quote"])  # tagged by hand: history only
    stage_check_deletable(stage=other.stages.get(name="Quote"))
    with pytest.raises(ValidationError):
        stage_check_deletable(stage=stages["Quote"])
