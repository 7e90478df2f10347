"""The Kanban board in Chromium: drag and drop, the evidence dialog, refused moves snapping back."""

import datetime

import pytest
from playwright.sync_api import expect

from crm.dates import company_today
from opportunities.models import Activity, Opportunity
from opportunities.selectors_board import BOARD_PAGE_SIZE
from opportunities.services import opportunity_create, opportunity_move_stage, opportunity_update
from tests.factories import png_bytes


@pytest.fixture
def make_opportunity(rep, team, pipeline, source, customer):
    """Deals made through the service, as a rep would."""

    def make(title: str, **kwargs):
        return opportunity_create(
            by=rep,
            title=title,
            customer=customer,
            pipeline=pipeline,
            source=source,
            team=team,
            expected_close_date=company_today() + datetime.timedelta(days=30),
            amount=kwargs.pop("amount", "8000"),
            **kwargs,
        )

    return make


def column(page, stage):
    return page.locator(f'.board-cards[data-stage="{stage.pk}"]')


def drag(page, card, target) -> None:
    """Press, move past SortableJS's tolerance, glide onto the target, release once SortableJS has
    put the card there (in fallback mode it looks under the pointer every 50 ms)."""
    card_id = card.get_attribute("id")
    start = card.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 12, start["y"] + start["height"] / 2 + 12, steps=4)
    expect(target).to_be_visible()  # the won / lost drop zones show once a drag has started
    end = target.bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + min(40, end["height"] / 2), steps=12)
    expect(target.locator(f"#{card_id}")).to_have_count(1)
    page.mouse.up()


def open_board(page, live_server, pipeline):
    page.goto(f"{live_server.url}/opportunities/board/?pipeline={pipeline.pk}")
    page.wait_for_load_state("networkidle")


def test_it_drags_a_card_to_the_next_stage_and_it_stays_there(
    login, live_server, rep, stages, pipeline, make_opportunity
):
    deal = make_opportunity("Porcelain for Lyon")
    page = login(rep)
    open_board(page, live_server, pipeline)
    card = page.locator(f"#opp-{deal.pk}")
    expect(column(page, stages["New"]).locator(f"#opp-{deal.pk}")).to_be_visible()
    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag(page, card, column(page, stages["Sample"]))
    assert answer.value.status == 200
    expect(column(page, stages["Sample"]).locator(f"#opp-{deal.pk}")).to_be_visible()
    expect(page.locator(f"#col-head-{stages['Sample'].pk} .board-col-count")).to_have_text("1")
    expect(page.locator(f"#col-head-{stages['New'].pk} .board-col-count")).to_have_text("0")
    page.reload()
    expect(column(page, stages["Sample"]).locator(f"#opp-{deal.pk}")).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Sample"]


def test_it_asks_for_the_sample_photo_and_tracking_number_then_moves(
    login, live_server, rep, stages, pipeline, make_opportunity
):
    deal = make_opportunity("Sample-gated deal")
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    page = login(rep)
    open_board(page, live_server, pipeline)
    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag(page, page.locator(f"#opp-{deal.pk}"), column(page, stages["Quote"]))
    assert answer.value.status == 422
    dialog = page.locator("dialog#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Attach a file (e.g. a sample photo)")
    expect(dialog).to_contain_text("Enter a courier tracking number")
    # Not moved while the dialog asks: the card is back in its column.
    expect(column(page, stages["Sample"]).locator(f"#opp-{deal.pk}")).to_be_visible()

    dialog.locator("input[type=file]").set_input_files(
        {"name": "sample.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    dialog.locator("input[name=carrier]").fill("顺丰")
    dialog.locator("input[name=tracking_number]").fill("SF1122334455")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    expect(column(page, stages["Quote"]).locator(f"#opp-{deal.pk}")).to_be_visible()
    expect(page.locator("#board-toast")).to_contain_text("Moved to")
    page.reload()
    expect(column(page, stages["Quote"]).locator(f"#opp-{deal.pk}")).to_be_visible()
    activity = Activity.objects.get(opportunity=deal, tracking_number="SF1122334455")
    assert activity.stage == stages["Sample"] and activity.attachments.count() == 1


def test_it_snaps_a_refused_card_back_with_a_message(
    login, live_server, rep, manager, stages, pipeline, make_opportunity
):
    deal = make_opportunity("Changed behind your back")
    page = login(rep)
    open_board(page, live_server, pipeline)
    # Someone else edits the deal after the board was loaded: the card's version is stale.
    opportunity_update(opportunity=deal, by=manager, version=deal.version, title="Renamed by the manager")
    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag(page, page.locator(f"#opp-{deal.pk}"), column(page, stages["Sample"]))
    assert answer.value.status == 409
    expect(page.locator("#board-toast")).to_contain_text("Someone else changed this record")
    expect(column(page, stages["New"]).locator(f"#opp-{deal.pk}")).to_contain_text("Renamed by the manager")
    expect(column(page, stages["Sample"]).locator(".opp-card")).to_have_count(0)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["New"]


def test_it_asks_for_the_lost_reason_when_dropped_on_lost(
    login, live_server, rep, stages, pipeline, make_opportunity, lost_reason
):
    deal = make_opportunity("Going nowhere")
    page = login(rep)
    open_board(page, live_server, pipeline)
    drop = page.locator(f'.board-drop[data-stage="{stages["Lost"].pk}"]')
    expect(drop).to_be_hidden()  # the drop zones show only while dragging
    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag(page, page.locator(f"#opp-{deal.pk}"), drop)
    assert answer.value.status == 422
    dialog = page.locator("dialog#move-dialog")
    expect(dialog).to_be_visible()
    expect(column(page, stages["New"]).locator(f"#opp-{deal.pk}")).to_be_visible()
    dialog.locator("select[name=lost_reason]").select_option(str(lost_reason.pk))
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#opp-{deal.pk}")).to_have_count(0)
    assert Opportunity.objects.get(pk=deal.pk).status == Opportunity.Status.LOST


def test_it_loads_more_cards_of_a_column(login, live_server, rep, stages, pipeline, make_deal):
    for day in range(BOARD_PAGE_SIZE + 3):
        make_deal(
            owner=rep, title=f"Lead {day:02d}", expected_close_date=company_today() + datetime.timedelta(days=day)
        )
    page = login(rep)
    open_board(page, live_server, pipeline)
    cards = column(page, stages["New"]).locator(".opp-card")
    expect(cards).to_have_count(BOARD_PAGE_SIZE)
    more = page.locator(f"#more-{stages['New'].pk} button")
    more.click()
    expect(cards).to_have_count(BOARD_PAGE_SIZE + 3)
    expect(cards.last).to_contain_text(f"Lead {BOARD_PAGE_SIZE + 2:02d}")
    expect(more).to_have_count(0)  # nothing more to load
