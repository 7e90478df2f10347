"""The opportunity page in Chromium: a successor finds the whole history; the stage path moves."""

import datetime

import pytest
from playwright.sync_api import expect

from crm.dates import company_today
from opportunities.models import Opportunity
from opportunities.selectors_timeline import opportunity_timeline
from opportunities.services import (
    opportunity_add_activity,
    opportunity_assign,
    opportunity_create,
    opportunity_move_stage,
)
from tests.factories import png_bytes, upload


@pytest.fixture
def worked_deal(rep, manager, other_rep, team, pipeline, source, customer, stages):
    """rep works the deal up to the sample stage, then the manager hands it to other_rep."""
    deal = opportunity_create(
        by=rep,
        title="Brake pads for Hamburg",
        customer=customer,
        pipeline=pipeline,
        source=source,
        team=team,
        expected_close_date=company_today() + datetime.timedelta(days=30),
    )
    opportunity_add_activity(opportunity=deal, by=rep, kind="call", body="Needs ECE R90 certificates")
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    opportunity_add_activity(
        opportunity=deal,
        by=rep,
        kind="sample",
        body="Two sets sent",
        carrier="DHL",
        tracking_number="JD014600001",
        files=[upload("pads.png")],
    )
    opportunity_assign(opportunity_ids=[deal.pk], owner=other_rep, by=manager, reason="rep moved to another market")
    return Opportunity.objects.get(pk=deal.pk)


def test_it_shows_the_successor_the_full_history(login, live_server, other_rep, worked_deal):
    page = login(other_rep)
    page.goto(f"{live_server.url}/opportunities/{worked_deal.pk}/")
    history = page.locator(".history")
    expect(history).to_contain_text("Handed over from rep to other_rep")
    expect(history).to_contain_text("rep moved to another market")
    expect(history).to_contain_text("Needs ECE R90 certificates")
    expect(history).to_contain_text("Two sets sent")
    expect(history).to_contain_text("JD014600001")
    thumbnail = history.locator(".thumb img")
    expect(thumbnail).to_have_count(1)
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())


def test_it_moves_from_the_stage_path_after_asking_for_the_evidence(
    login, live_server, rep, team, pipeline, source, customer, stages
):
    deal = opportunity_create(
        by=rep,
        title="Wheel hubs for Rotterdam",
        customer=customer,
        pipeline=pipeline,
        source=source,
        team=team,
        expected_close_date=company_today() + datetime.timedelta(days=30),
    )
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    page = login(rep)
    page.goto(f"{live_server.url}/opportunities/{deal.pk}/")
    page.locator(".stage-path button", has_text="Quote").click()
    dialog = page.locator("dialog#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Enter a courier tracking number")
    dialog.locator("input[type=file]").set_input_files(
        {"name": "s.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    dialog.locator("input[name=tracking_number]").fill("SF777")
    dialog.locator("button[type=submit]").click()
    expect(page.locator(".stage-path .step-current")).to_contain_text("Quote")
    expect(page.locator(".history")).to_contain_text("SF777")
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Quote"]


def test_it_logs_an_activity_with_photos(login, live_server, rep, worked_deal, manager):
    opportunity_assign(opportunity_ids=[worked_deal.pk], owner=rep, by=manager, reason="back")
    page = login(rep)
    page.goto(f"{live_server.url}/opportunities/{worked_deal.pk}/")
    form = page.locator("#log-activity form")
    form.locator("select[name=kind]").select_option("visit")
    form.locator("textarea[name=body]").fill("Visited the buyer's warehouse")
    form.locator("input[type=file]").set_input_files(
        [
            {"name": "one.png", "mimeType": "image/png", "buffer": png_bytes()},
            {"name": "two.png", "mimeType": "image/png", "buffer": png_bytes()},
        ]
    )
    form.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Activity logged.")
    latest = page.locator(".timeline .event").first
    expect(latest).to_contain_text("Visited the buyer's warehouse")
    expect(latest.locator(".thumb img")).to_have_count(2)


def test_it_loads_earlier_events_and_a_closed_form_when_asked(
    login, live_server, rep, worked_deal, manager, lost_reason
):
    opportunity_assign(opportunity_ids=[worked_deal.pk], owner=rep, by=manager, reason="back")
    for index in range(55):
        opportunity_add_activity(opportunity=worked_deal, by=rep, kind="note", body=f"Note {index}")
    page = login(rep)
    page.goto(f"{live_server.url}/opportunities/{worked_deal.pk}/")
    events = page.locator(".timeline .event")
    expect(events).to_have_count(50)
    expect(events.first).to_contain_text("Note 54")
    page.locator(".timeline-earlier a").click()
    expect(events).to_have_count(len(opportunity_timeline(opportunity=worked_deal)))  # every event, once
    expect(events.last).to_contain_text("Created")
    expect(page.locator(".timeline-earlier a")).to_have_count(0)
    assert "/history/" not in page.url  # appended in place, not a new page
    panel = page.locator("#close-deal")
    expect(panel.locator("select[name=lost_reason]")).to_have_count(0)
    panel.locator("summary").click()
    expect(panel.locator("select[name=lost_reason]")).to_be_visible()
    expect(panel.locator("select[name=lost_reason] option", has_text=lost_reason.name)).to_have_count(1)
