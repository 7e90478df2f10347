"""/api/opportunities/{id}/move/, close/ and reopen/."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.dates import company_today
from opportunities.models import Opportunity, StageChange, StatusChange
from opportunities.services import opportunity_add_activity, opportunity_close, opportunity_move_stage
from tests.api_fixtures import customer, deal  # noqa: F401  (service-made deal, see the module)
from tests.factories import LostReasonFactory, PipelineFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def url(deal, verb):
    return f"/api/opportunities/{deal.pk}/{verb}/"


def snapshot(deal):
    return Opportunity.objects.values().get(pk=deal.pk)


@pytest.fixture
def sample_stage(stages):
    return stages["Sample"]


@pytest.fixture
def deal_in_sample(deal, rep, sample_stage):
    return opportunity_move_stage(opportunity=deal, stage=sample_stage, by=rep)


# --- move ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
def test_it_moves_a_deal_forward(api_as, deal, stages, who, request):
    response = api_as(request.getfixturevalue(who)).post(
        url(deal, "move"), {"stage": stages["Sample"].pk, "note": "Samples asked"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["stage"] == stages["Sample"].pk and body["probability"] == 50 and body["version"] == deal.version + 1
    assert StageChange.objects.filter(opportunity=deal, to_stage=stages["Sample"], note="Samples asked").exists()


def test_it_lists_the_unmet_exit_criteria_and_changes_nothing(api_as, rep, deal_in_sample, stages):
    before = snapshot(deal_in_sample)
    response = api_as(rep).post(url(deal_in_sample, "move"), {"stage": stages["Quote"].pk}, format="json")
    assert response.status_code == 400
    errors = response.json()["non_field_errors"]
    assert len(errors) == 2
    assert any("Sample" in message for message in errors)
    assert snapshot(deal_in_sample) == before


def test_it_moves_on_once_the_evidence_is_there(api_as, rep, deal_in_sample, stages):
    opportunity_add_activity(
        opportunity=deal_in_sample,
        by=rep,
        kind="sample",
        carrier="DHL",
        tracking_number="JD0001",
        files=[SimpleUploadedFile("photo.png", PNG, content_type="image/png")],
    )
    response = api_as(rep).post(url(deal_in_sample, "move"), {"stage": stages["Quote"].pk}, format="json")
    assert response.status_code == 200, response.json()


def test_it_refuses_a_stage_of_another_pipeline(api_as, rep, deal):
    elsewhere = PipelineFactory(name="Spare parts").stages.get(name="Quote")
    response = api_as(rep).post(url(deal, "move"), {"stage": elsewhere.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["stage"]


def test_it_answers_400_for_a_missing_or_unknown_stage(api_as, rep, deal):
    assert "stage" in api_as(rep).post(url(deal, "move"), {}, format="json").json()
    response = api_as(rep).post(url(deal, "move"), {"stage": 999999}, format="json")
    assert response.status_code == 400 and "stage" in response.json()


def test_it_answers_409_to_a_move_with_a_stale_version(api_as, rep, deal, stages):
    before = snapshot(deal)
    response = api_as(rep).post(url(deal, "move"), {"stage": stages["Sample"].pk, "version": 99}, format="json")
    assert response.status_code == 409
    assert response.json()["current_version"] == deal.version
    assert snapshot(deal) == before


def test_it_needs_a_lost_reason_to_move_into_a_lost_stage(api_as, rep, deal, stages, lost_reason):
    response = api_as(rep).post(url(deal, "move"), {"stage": stages["Lost"].pk}, format="json")
    assert response.status_code == 400 and "lost_reason" in response.json()
    response = api_as(rep).post(
        url(deal, "move"), {"stage": stages["Lost"].pk, "lost_reason": lost_reason.pk}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "lost"


@pytest.mark.parametrize("verb", ["move", "close", "reopen"])
@pytest.mark.parametrize("who", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_to_an_action_on_someone_elses_deal(api_as, deal, stages, lost_reason, who, verb, request):
    before = snapshot(deal)
    payload = {
        "move": {"stage": stages["Sample"].pk},
        "close": {"outcome": "lost", "lost_reason": lost_reason.pk},
        "reopen": {},
    }[verb]
    response = api_as(request.getfixturevalue(who)).post(url(deal, verb), payload, format="json")
    assert response.status_code == 404
    assert snapshot(deal) == before


@pytest.mark.parametrize("verb", ["move", "close", "reopen"])
def test_it_answers_401_to_an_anonymous_action(api_client, deal, verb):
    assert api_client.post(url(deal, verb), {}, format="json").status_code == 401


# --- close --------------------------------------------------------------------------------


def test_it_closes_a_deal_as_won(api_as, rep, deal, stages):
    # Winning from New jumps over Sample: its evidence first.
    opportunity_add_activity(
        opportunity=deal, by=rep, kind="sample", tracking_number="SF1",
        files=[SimpleUploadedFile("photo.png", PNG, content_type="image/png")],
    )
    response = api_as(rep).post(url(deal, "close"), {"outcome": "won", "won_amount": "1200.00"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "won" and body["stage"] == stages["Won"].pk and body["closed_at"]
    assert body["amount"] == "1200.00" and body["probability"] == 100
    assert StatusChange.objects.get(opportunity=deal).owner == deal.owner


def test_it_closes_a_deal_as_lost_with_a_reason(api_as, manager, deal, lost_reason):
    response = api_as(manager).post(
        url(deal, "close"),
        {"outcome": "lost", "lost_reason": lost_reason.pk, "reason": "Chose a local maker"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "lost"
    assert response.json()["lost_reason"] == lost_reason.pk
    assert response.json()["close_reason"] == "Chose a local maker"


def test_it_answers_400_to_a_bad_close(api_as, rep, deal):
    before = snapshot(deal)
    assert "outcome" in api_as(rep).post(url(deal, "close"), {"outcome": "expired"}, format="json").json()
    response = api_as(rep).post(url(deal, "close"), {"outcome": "lost"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["lost_reason"]
    inactive = LostReasonFactory(name="Retired reason", is_active=False)
    response = api_as(rep).post(url(deal, "close"), {"outcome": "lost", "lost_reason": inactive.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["lost_reason"]
    assert snapshot(deal) == before


def test_it_answers_400_to_closing_a_closed_deal(api_as, rep, deal, lost_reason):
    opportunity_close(opportunity=deal, outcome="lost", by=rep, lost_reason=lost_reason)
    response = api_as(rep).post(url(deal, "close"), {"outcome": "won"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_it_enforces_exit_criteria_on_a_win(api_as, rep, deal_in_sample):
    response = api_as(rep).post(url(deal_in_sample, "close"), {"outcome": "won"}, format="json")
    assert response.status_code == 400
    assert len(response.json()["non_field_errors"]) == 2


def test_it_answers_409_to_a_close_with_a_stale_version(api_as, rep, deal):
    response = api_as(rep).post(url(deal, "close"), {"outcome": "won", "version": 7}, format="json")
    assert response.status_code == 409
    assert Opportunity.objects.get(pk=deal.pk).status == "open"


# --- reopen -------------------------------------------------------------------------------


@pytest.fixture
def lost_deal(deal, rep, lost_reason):
    return opportunity_close(opportunity=deal, outcome="lost", by=rep, lost_reason=lost_reason)


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_it_lets_a_manager_reopen(api_as, lost_deal, stages, who, request):
    new_date = company_today() + datetime.timedelta(days=10)
    response = api_as(request.getfixturevalue(who)).post(
        url(lost_deal, "reopen"),
        {"expected_close_date": new_date.isoformat(), "reason": "They called back"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "open" and body["stage"] == stages["New"].pk and body["lost_reason"] is None
    assert body["expected_close_date"] == new_date.isoformat()


def test_it_refuses_a_reopen_by_a_rep_with_403(api_as, rep, lost_deal):
    before = snapshot(lost_deal)
    response = api_as(rep).post(url(lost_deal, "reopen"), {}, format="json")
    assert response.status_code == 403
    assert snapshot(lost_deal) == before


def test_it_answers_400_to_reopening_an_open_deal_or_into_the_past(api_as, manager, deal, lost_deal):
    response = api_as(manager).post(url(lost_deal, "reopen"), {"expected_close_date": "2001-01-01"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["expected_close_date"]
    api_as(manager).post(url(lost_deal, "reopen"), {}, format="json")
    response = api_as(manager).post(url(lost_deal, "reopen"), {}, format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_it_answers_409_to_a_reopen_with_a_stale_version(api_as, manager, lost_deal):
    response = api_as(manager).post(url(lost_deal, "reopen"), {"version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["current_version"] == lost_deal.version
