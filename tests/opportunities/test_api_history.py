"""/api/opportunities/{id}/history/ and the opportunity_timeline selector behind it (selectors_timeline.py)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opportunities.selectors_timeline import opportunity_timeline
from opportunities.services import (
    opportunities_expire_overdue,
    opportunity_add_activity,
    opportunity_assign,
    opportunity_close,
    opportunity_move_stage,
    opportunity_push_close_date,
    opportunity_reopen,
    opportunity_update,
)
from tests.api_fixtures import customer, deal  # noqa: F401  (service-made deal, see the module)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def url(deal):
    return f"/api/opportunities/{deal.pk}/history/"


@pytest.fixture
def worked_deal(deal, rep, other_rep, manager, stages, lost_reason):
    """A deal that went through everything once."""
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep, note="Wants samples")
    opportunity_add_activity(
        opportunity=deal,
        by=rep,
        kind="sample",
        body="Sent 3 valves",
        carrier="DHL",
        tracking_number="JD0001",
        files=[SimpleUploadedFile("valve.png", PNG, content_type="image/png")],
    )
    opportunity_push_close_date(
        opportunity=deal, by=rep, new_date=deal.expected_close_date + datetime.timedelta(7), reason="Buyer on holiday"
    )
    deal.refresh_from_db()
    opportunity_update(opportunity=deal, by=manager, version=deal.version, difficulty="2.00")
    opportunity_assign(opportunity_ids=[deal.pk], owner=other_rep, by=manager, reason="Rep changed region")
    deal.refresh_from_db()
    opportunity_close(opportunity=deal, outcome="lost", by=other_rep, lost_reason=lost_reason, reason="Too dear")
    deal.refresh_from_db()
    opportunity_reopen(opportunity=deal, by=manager, reason="They called back")
    deal.refresh_from_db()
    return deal


def test_it_merges_every_kind_of_event_oldest_first(api_as, rep, worked_deal):
    response = api_as(rep).get(url(worked_deal))
    assert response.status_code == 404  # handed to other_rep: rep no longer sees it


def test_it_answers_the_whole_history_to_whoever_sees_the_deal(
    api_as, other_rep, manager, admin, worked_deal, stages, lost_reason
):
    for user in (other_rep, manager, admin):
        response = api_as(user).get(url(worked_deal))
        assert response.status_code == 200
    events = response.json()
    assert [event["type"] for event in events] == [
        "created",
        "assigned",
        "stage_changed",
        "activity",
        "close_date_changed",
        "field_changed",
        "assigned",
        "stage_changed",
        "lost",
        "stage_changed",
        "reopened",
    ]
    times = [event["at"] for event in events]
    assert times == sorted(times)
    created, first_assignment, to_sample, activity, push, difficulty, handover, to_lost, lost, back, reopened = events
    assert created["by"]["username"] == "rep" and created["stage"]["name"] == "New" and created["probability"] == 10
    assert first_assignment["to_owner"]["username"] == "rep" and first_assignment["from_owner"] is None
    assert to_sample["from_stage"]["name"] == "New" and to_sample["to_stage"]["name"] == "Sample"
    assert to_sample["note"] == "Wants samples" and to_sample["probability_after"] == 50
    assert activity["activity"]["tracking_number"] == "JD0001"
    attachment = activity["activity"]["attachments"][0]
    assert attachment["original_name"] == "valve.png"
    assert attachment["download_url"].endswith(f"/api/attachments/{attachment['id']}/download/")
    assert push["is_push"] is True and push["reason"] == "Buyer on holiday"
    assert difficulty["field"] == "difficulty" and difficulty["old_value"] == "1.00"
    assert difficulty["new_value"] == "2.00" and difficulty["by"]["username"] == "manager"
    assert handover["from_owner"]["username"] == "rep" and handover["to_owner"]["username"] == "other_rep"
    assert handover["reason"] == "Rep changed region"
    assert to_lost["to_stage"]["name"] == "Lost"
    assert lost["lost_reason"] == {"id": lost_reason.pk, "name": lost_reason.name}
    assert lost["owner"]["username"] == "other_rep" and lost["reason"] == "Too dear"
    assert back["to_stage"]["name"] == "Sample"
    assert reopened["from_status"] == "lost" and reopened["by"]["username"] == "manager"


def test_it_shows_an_expiry_by_the_system(api_as, manager, deal):
    from opportunities.models import Opportunity

    Opportunity.objects.filter(pk=deal.pk).update(expected_close_date=datetime.date(2020, 1, 1))
    opportunities_expire_overdue()
    events = api_as(manager).get(url(deal)).json()
    assert events[-1]["type"] == "expired" and events[-1]["by"] is None


@pytest.mark.parametrize("who", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_for_someone_elses_history(api_as, deal, who, request):
    assert api_as(request.getfixturevalue(who)).get(url(deal)).status_code == 404


def test_it_answers_401_to_anonymous(api_client, deal):
    assert api_client.get(url(deal)).status_code == 401


@pytest.mark.parametrize("rows", [1, 50])
def test_it_answers_in_a_constant_number_of_queries(api_as, rep, deal, stages, rows, django_assert_num_queries):
    for number in range(rows):
        opportunity_add_activity(
            opportunity=deal,
            by=rep,
            kind="note",
            body=f"Note {number}",
            tracking_number=f"SF{number}",  # with the photo: the evidence for jumping over Sample
            files=[SimpleUploadedFile(f"p{number}.png", PNG, content_type="image/png")],
        )
        opportunity_move_stage(opportunity=deal, stage=stages["Quote" if number % 2 == 0 else "New"], by=rep)
    client = api_as(rep)
    # the caller's teams, the deal, its creator, the timeline (7 tables in one UNION ALL)
    with django_assert_num_queries(4):
        response = client.get(url(deal))
    assert len(response.json()) == 2 + 2 * rows


def test_the_selector_returns_model_instances_for_the_pages(deal, rep):
    events = opportunity_timeline(opportunity=deal)
    assert [event["type"] for event in events] == ["created", "assigned"]
    assert events[0]["by"] == rep and events[1]["to_owner"] == rep
