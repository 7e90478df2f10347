"""The Kanban board (opportunities:board, :board_column) and the move endpoint (opportunities:move).

The fixture pipeline: New (10 %) → Sample (50 %, needs an attachment and a tracking number) →
Quote (70 %, needs the amount) → Won / Lost.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.dates import company_today
from opportunities import selectors_board
from opportunities.models import Activity, Attachment, Opportunity, StageChange
from opportunities.selectors_board import BOARD_PAGE_SIZE
from opportunities.services import opportunity_add_activity, opportunity_move_stage, opportunity_update
from tests.factories import PipelineFactory, upload
from tests.query_counts import team_scope_queries

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def board_url(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("opportunities:board") + (f"?{query}" if query else "")


def move_url(deal) -> str:
    return reverse("opportunities:move", args=[deal.pk])


def fresh(deal) -> Opportunity:
    return Opportunity.objects.get(pk=deal.pk)


def board_move(client, deal, stage, **extra):
    """What board.js posts when a card is dropped on a column."""
    data = {"stage": stage.pk, "version": fresh(deal).version, "context": "board", "board_query": "", **extra}
    return client.post(move_url(deal), data, headers=HTMX)


@pytest.fixture
def in_sample(deal, rep, stages):
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    return fresh(deal)


@pytest.fixture
def in_quote(in_sample, rep, stages):
    opportunity_add_activity(
        opportunity=in_sample, by=rep, kind="sample", tracking_number="SF100", files=[upload("photo.png")]
    )
    opportunity_move_stage(opportunity=in_sample, stage=stages["Quote"], by=rep)
    return fresh(in_sample)


# --- the board page --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("rep", True), ("other_rep", False), ("manager", True), ("outsider_manager", False), ("admin", True)],
)
def test_it_shows_each_role_the_deals_it_may_see(client, deal, other_team, viewer, sees, request):
    client.force_login(request.getfixturevalue(viewer))
    response = client.get(board_url(pipeline=deal.pipeline_id))
    assert response.status_code == 200
    assert (f'id="opp-{deal.pk}"' in response.content.decode()) is sees


def test_it_sends_an_anonymous_visitor_to_the_login_page(client, deal):
    response = client.get(board_url())
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_it_opens_the_first_pipeline_the_user_has_deals_in(client, rep, deal):
    PipelineFactory(name="AAA first but empty", order=0)
    deal.pipeline.order = 5
    deal.pipeline.save()
    client.force_login(rep)
    response = client.get(board_url())
    assert response.context["pipeline"] == deal.pipeline


def test_it_answers_404_for_an_unknown_pipeline(client, rep, deal):
    client.force_login(rep)
    assert client.get(board_url(pipeline=999999)).status_code == 404
    assert client.get(board_url(pipeline="abc")).status_code == 404


def test_it_has_a_column_per_open_stage_and_drop_zones_for_won_and_lost(client, rep, deal):
    client.force_login(rep)
    response = client.get(board_url())
    assert [column.stage.name for column in response.context["columns"]] == ["New", "Sample", "Quote"]
    assert [stage.name for stage in response.context["closing_stages"]] == ["Won", "Lost"]
    assert "Sortable.min.js" in response.content.decode()
    assert "cdn" not in response.content.decode().lower()


def test_it_computes_count_total_and_weighted_amount_per_column(client, make_deal, rep, stages):
    # New is 10 %, Sample 50 %. Weighted = amount in CNY × probability.
    make_deal(owner=rep, amount_base=Decimal("1000.00"))
    make_deal(owner=rep, amount_base=Decimal("2500.50"))
    make_deal(owner=rep, amount=None, amount_base=None)  # counted, no money
    make_deal(owner=rep, stage=stages["Sample"], probability=50, amount_base=Decimal("3000.00"))
    make_deal(owner=rep, stage=stages["Sample"], probability=35, amount_base=Decimal("999.99"))  # set by hand
    make_deal(owner=rep, status=Opportunity.Status.WON, stage=stages["Won"], amount_base=Decimal("9999.00"))
    client.force_login(rep)
    columns = {column.stage.name: column for column in client.get(board_url()).context["columns"]}
    assert (columns["New"].count, columns["New"].total, columns["New"].weighted) == (
        3,
        Decimal("3500.50"),
        Decimal("350.05"),
    )
    # 3000 × 50 % + 999.99 × 35 % = 1500 + 349.9965 → 1850.00 (to the cent)
    assert (columns["Sample"].count, columns["Sample"].total, columns["Sample"].weighted) == (
        2,
        Decimal("3999.99"),
        Decimal("1850.00"),
    )
    assert (columns["Quote"].count, columns["Quote"].total) == (0, Decimal("0.00"))


def test_it_marks_overdue_and_stale_cards(client, make_deal, rep, stages):
    stages["New"].rotting_days = 3
    stages["New"].save()
    overdue = make_deal(owner=rep, title="Late one")
    Opportunity.objects.filter(pk=overdue.pk).update(expected_close_date=company_today() - datetime.timedelta(days=2))
    idle = make_deal(owner=rep, title="Idle one")
    Opportunity.objects.filter(pk=idle.pk).update(
        stage_entered_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC), last_activity_at=None
    )
    client.force_login(rep)
    html = client.get(board_url()).content.decode()
    late_card = re.search(rf'<article class="opp-card[^"]*" id="opp-{overdue.pk}".*?</article>', html, re.S).group(0)
    idle_card = re.search(rf'<article class="opp-card[^"]*" id="opp-{idle.pk}".*?</article>', html, re.S).group(0)
    assert "is-overdue" in late_card and "mark-overdue" in late_card
    assert "mark-stale" in idle_card and "mark-overdue" not in idle_card


def test_it_filters_by_owner_and_team_for_a_manager(client, make_deal, manager, rep, other_rep, team):
    mine = make_deal(owner=rep, title="Rep's")
    theirs = make_deal(owner=other_rep, title="Other rep's")
    client.force_login(manager)
    html = client.get(board_url(owner=rep.pk)).content.decode()
    assert f'id="opp-{mine.pk}"' in html and f'id="opp-{theirs.pk}"' not in html
    html = client.get(board_url(team=team.pk)).content.decode()
    assert f'id="opp-{mine.pk}"' in html and f'id="opp-{theirs.pk}"' in html
    assert 'name="owner"' in html  # the filter is offered to managers
    # A value that does not parse is ignored rather than emptying the board.
    assert f'id="opp-{mine.pk}"' in client.get(board_url(owner="abc")).content.decode()


def test_it_reads_the_board_without_a_filterset_when_no_filter_is_asked(client, rep, deal, monkeypatch):
    # The FilterSet of no filter changes nothing; building it is most of a branch's cost.
    def no_filterset(*args, **kwargs):
        raise AssertionError("no filter asked")

    monkeypatch.setattr(selectors_board, "OpportunityFilterSet", no_filterset)
    client.force_login(rep)
    assert f'id="opp-{deal.pk}"' in client.get(board_url()).content.decode()
    assert f'id="opp-{deal.pk}"' in client.get(board_url(pipeline=deal.pipeline_id, stage=1)).content.decode()


def test_it_offers_no_owner_filter_to_a_rep(client, rep, deal):
    client.force_login(rep)
    assert 'name="owner"' not in client.get(board_url()).content.decode()


def test_it_offers_the_team_and_owner_filters_to_an_admin_who_manages_no_team(client, admin, deal, team):
    client.force_login(admin)
    html = client.get(board_url()).content.decode()
    assert f'<option value="{team.pk}">' in html and 'name="owner"' in html


def test_it_shows_the_first_cards_of_a_column_and_loads_more(client, make_deal, rep, stages):
    deals = [
        make_deal(owner=rep, expected_close_date=company_today() + datetime.timedelta(days=day))
        for day in range(1, BOARD_PAGE_SIZE + 6)
    ]
    client.force_login(rep)
    response = client.get(board_url())
    first = next(column for column in response.context["columns"] if column.stage.name == "New")
    assert [card.pk for card in first.cards] == [deal.pk for deal in deals[:BOARD_PAGE_SIZE]]
    assert first.count == BOARD_PAGE_SIZE + 5 and first.has_more
    more = re.search(r'hx-get="([^"]+)"', response.content.decode()).group(1).replace("&amp;", "&")
    chunk = client.get(more, headers=HTMX)
    assert chunk.status_code == 200
    assert [card.pk for card in chunk.context["cards"]] == [deal.pk for deal in deals[BOARD_PAGE_SIZE:]]
    assert chunk.context["has_more"] is False
    assert 'hx-swap-oob="true"' in chunk.content.decode()  # the button is replaced (here: removed)


@pytest.mark.parametrize("lateral", [True, False], ids=["lateral-join", "union-of-stages"])
def test_it_shows_a_column_s_first_cards_across_the_rep_s_deals_and_the_pool(
    client, make_deal, rep, team, stages, lateral, monkeypatch
):
    # Two branches of the visibility rule (own deals, the team's pool), interleaved by date: the
    # column's first cards are the earliest of both together, in order. Read by a LATERAL join on
    # PostgreSQL, by a UNION ALL of every (branch, stage) pair elsewhere.
    if lateral and connection.vendor != "postgresql":
        pytest.skip("LATERAL joins are PostgreSQL's")
    monkeypatch.setattr(selectors_board, "_lateral_joins", lambda: lateral)
    team.reps_see_pool = True
    team.save()
    deals = [
        make_deal(owner=rep if day % 2 else None, expected_close_date=company_today() + datetime.timedelta(days=day))
        for day in range(1, 2 * BOARD_PAGE_SIZE + 1)
    ]
    client.force_login(rep)
    response = client.get(board_url())
    first = next(column for column in response.context["columns"] if column.stage.name == "New")
    assert [card.pk for card in first.cards] == [deal.pk for deal in deals[:BOARD_PAGE_SIZE]]
    assert first.count == 2 * BOARD_PAGE_SIZE


def test_it_names_the_owner_on_each_card(client, make_deal, manager, rep, other_rep):
    rep.first_name, rep.last_name = "Li", "Wei"
    rep.save()
    mine, theirs, pooled = make_deal(owner=rep), make_deal(owner=other_rep), make_deal(owner=None)
    client.force_login(manager)
    html = client.get(board_url()).content.decode()

    def owner_of(deal) -> str:
        card = re.search(rf'id="opp-{deal.pk}".*?</article>', html, re.S).group(0)
        return re.search(r'<span class="opp-owner">(.*?)</span>\s*<span class="opp-marks">', card, re.S).group(1)

    assert owner_of(mine) == '<span class="avatar" aria-hidden="true">LW</span>Li Wei'
    assert owner_of(theirs) == '<span class="avatar" aria-hidden="true">O</span>other_rep'
    assert owner_of(pooled) == '<span class="avatar" aria-hidden="true">—</span>Unassigned'


def test_a_moved_card_is_the_card_the_board_shows(client, make_deal, rep, stages):
    stages["Sample"].rotting_days = 3
    stages["Sample"].save()
    deal = make_deal(owner=rep, amount=Decimal("1234.50"), currency="USD", expected_close_date=company_today())
    client.force_login(rep)
    response = board_move(client, deal, stages["Sample"])
    assert response.status_code == 200
    moved = re.search(
        rf'<article class="opp-card[^"]*" id="opp-{deal.pk}".*?</article>', response.content.decode(), re.S
    )
    board = client.get(board_url()).content.decode()
    assert moved.group(0) in board


def test_it_loads_more_only_of_what_the_user_sees(client, make_deal, rep, other_rep, stages):
    make_deal(owner=other_rep, title="Not for rep")
    client.force_login(rep)
    response = client.get(reverse("opportunities:board_column", args=[stages["New"].pk]))
    assert response.status_code == 200
    assert response.context["cards"] == []


def test_it_answers_404_for_a_column_that_is_not_an_open_stage_or_a_bad_cursor(client, rep, stages):
    client.force_login(rep)
    assert client.get(reverse("opportunities:board_column", args=[stages["Won"].pk])).status_code == 404
    url = reverse("opportunities:board_column", args=[stages["New"].pk])
    assert client.get(url + "?after=yesterday_1").status_code == 404


@pytest.mark.parametrize("viewer", ["rep", "manager"])
def test_it_keeps_a_constant_number_of_queries_on_the_board(
    client, make_deal, rep, stages, viewer, request, django_assert_num_queries
):
    user = request.getfixturevalue(viewer)
    client.force_login(user)
    make_deal(owner=rep)
    client.get(board_url())  # warm caches (content types, sessions)
    # session, user (with the bell's count), [the viewer's teams (scoping)], pipelines
    # (+ has-deals), [teams the viewer manages, owners], stages, column figures, the first cards
    # of every column
    expected = (6 if viewer == "rep" else 8) + team_scope_queries()
    with django_assert_num_queries(expected):
        client.get(board_url())
    for index in range(60):
        make_deal(owner=rep, stage=stages[("New", "Sample", "Quote")[index % 3]])
    with django_assert_num_queries(expected):
        response = client.get(board_url())
    columns = response.context["columns"]
    assert [column.count for column in columns] == [21, 20, 20]
    assert [len(column.cards) for column in columns] == [BOARD_PAGE_SIZE] * 3


def test_it_keeps_a_constant_number_of_queries_per_column_chunk(
    client, make_deal, rep, stages, django_assert_num_queries
):
    client.force_login(rep)
    url = reverse("opportunities:board_column", args=[stages["New"].pk])
    make_deal(owner=rep)
    with django_assert_num_queries(4 + team_scope_queries()):  # session, user, stage, [the user's teams], cards
        client.get(url)
    for _ in range(30):
        make_deal(owner=rep)
    with django_assert_num_queries(4 + team_scope_queries()):
        response = client.get(url)
    assert len(response.context["cards"]) == BOARD_PAGE_SIZE


# --- moving a card -----------------------------------------------------------------------


def test_it_moves_a_card_and_answers_the_new_column_figures(client, deal, rep, stages):
    client.force_login(rep)
    response = board_move(client, deal, stages["Sample"])
    assert response.status_code == 200
    assert fresh(deal).stage == stages["Sample"]
    html = response.content.decode()
    assert f'id="opp-{deal.pk}"' in html and f'data-stage="{stages["Sample"].pk}"' in html
    heads = {head["stage"].name: head["count"] for head in response.context["heads"]}
    assert heads == {"New": 0, "Sample": 1, "Quote": 0}
    assert StageChange.objects.filter(opportunity=deal, to_stage=stages["Sample"], by=rep).exists()


def test_it_moves_back_without_evidence(client, in_sample, rep, stages):
    client.force_login(rep)
    assert board_move(client, in_sample, stages["New"]).status_code == 200
    assert fresh(in_sample).stage == stages["New"]


def test_it_asks_for_the_missing_evidence_and_changes_nothing(client, in_sample, rep, stages):
    client.force_login(rep)
    before = (fresh(in_sample).version, StageChange.objects.count(), Activity.objects.count())
    response = board_move(client, in_sample, stages["Quote"])
    assert response.status_code == 422
    html = response.content.decode()
    assert "<dialog" in html
    assert "Attach a file (e.g. a sample photo) in the stage “Sample”." in html
    assert "Enter a courier tracking number in the stage “Sample”." in html
    assert 'type="file"' in html and 'name="tracking_number"' in html
    assert 'name="amount"' not in html  # not missing, not asked
    assert (fresh(in_sample).stage, fresh(in_sample).version) == (stages["Sample"], before[0])
    assert (StageChange.objects.count(), Activity.objects.count()) == before[1:]


def test_it_records_the_evidence_from_the_dialog_and_moves(client, in_sample, rep, stages):
    client.force_login(rep)
    data = {
        "stage": stages["Quote"].pk,
        "version": in_sample.version,
        "context": "board",
        "confirm": "1",
        "needs": "attachment,tracking",
        "kind": "sample",
        "carrier": "顺丰",
        "tracking_number": "SF1234567890",
        "body": "Two samples, blue and white",
        "files": [upload("front.png"), upload("back.png")],
    }
    response = client.post(move_url(in_sample), data, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#board-sink"
    deal = fresh(in_sample)
    assert deal.stage == stages["Quote"]
    activity = Activity.objects.get(opportunity=deal, tracking_number="SF1234567890")
    assert (activity.stage, activity.carrier, activity.kind, activity.author) == (
        stages["Sample"],
        "顺丰",
        "sample",
        rep,
    )
    assert sorted(activity.attachments.values_list("original_name", flat=True)) == ["back.png", "front.png"]


def test_it_keeps_the_dialog_and_records_nothing_when_an_answer_is_missing(client, in_sample, rep, stages):
    client.force_login(rep)
    data = {
        "stage": stages["Quote"].pk,
        "version": in_sample.version,
        "context": "board",
        "confirm": "1",
        "needs": "attachment,tracking",
        "kind": "sample",
        "body": "Photo only",
        "files": [upload("front.png")],
    }
    response = client.post(move_url(in_sample), data, headers=HTMX)
    assert response.status_code == 422
    assert response.context["dialog"].errors["tracking_number"]
    assert "Photo only" in response.content.decode()  # what was typed is kept
    assert fresh(in_sample).stage == stages["Sample"]
    assert not Attachment.objects.exists() and not Activity.objects.filter(body="Photo only").exists()


def test_it_asks_again_for_everything_when_the_dialog_skipped_a_gate(client, in_sample, rep, stages):
    """A dialog that (tampered or stale) asks only for the photo: the move is still refused,
    nothing is kept, and the next dialog asks for the photo and the tracking number."""
    client.force_login(rep)
    data = {
        "stage": stages["Quote"].pk,
        "version": in_sample.version,
        "context": "board",
        "confirm": "1",
        "needs": "attachment",
        "kind": "sample",
        "files": [upload("front.png")],
    }
    response = client.post(move_url(in_sample), data, headers=HTMX)
    assert response.status_code == 422
    assert set(response.context["dialog"].fields) >= {"files", "tracking_number"}
    assert not Attachment.objects.exists()
    assert fresh(in_sample).stage == stages["Sample"]


def test_it_refuses_a_file_that_is_not_evidence_in_the_dialog(client, in_sample, rep, stages):
    client.force_login(rep)
    data = {
        "stage": stages["Quote"].pk,
        "version": in_sample.version,
        "context": "board",
        "confirm": "1",
        "needs": "attachment,tracking",
        "kind": "sample",
        "tracking_number": "SF1",
        "files": [upload("run.png", b"MZ\x90\x00binary" * 20)],
    }
    response = client.post(move_url(in_sample), data, headers=HTMX)
    assert response.status_code == 422
    assert "not an allowed file type" in response.content.decode()
    assert fresh(in_sample).stage == stages["Sample"] and not Activity.objects.filter(tracking_number="SF1").exists()


def test_it_asks_for_a_required_field_and_saves_it_before_moving(client, make_deal, rep, team):
    pipeline = PipelineFactory(
        name="Needs amount",
        stages=[
            {"name": "Talk", "probability": 20, "required_fields": ["amount"]},
            {"name": "Offer", "probability": 60},
            {"name": "Won", "probability": 100, "kind": "won"},
            {"name": "Lost", "probability": 0, "kind": "lost"},
        ],
    )
    deal = make_deal(owner=rep, pipeline=pipeline, amount=None, amount_base=None)
    offer = pipeline.stages.get(name="Offer")
    client.force_login(rep)
    response = board_move(client, deal, offer)
    assert response.status_code == 422
    assert 'name="amount"' in response.content.decode() and 'type="file"' not in response.content.decode()
    data = {"stage": offer.pk, "version": deal.version, "context": "board", "confirm": "1", "needs": "amount"}
    response = client.post(move_url(deal), {**data, "amount": "12500"}, headers=HTMX)
    assert response.status_code == 200
    deal = fresh(deal)
    assert (deal.stage, deal.amount, deal.amount_base) == (offer, Decimal("12500.00"), Decimal("12500.00"))


def test_it_asks_for_the_won_amount_when_dropped_on_won(client, in_quote, rep, stages):
    client.force_login(rep)
    response = board_move(client, in_quote, stages["Won"])
    assert response.status_code == 422
    html = response.content.decode()
    assert 'name="won_amount"' in html and 'value="1000.00"' in html
    assert fresh(in_quote).status == Opportunity.Status.OPEN
    data = {"stage": stages["Won"].pk, "version": in_quote.version, "context": "board", "confirm": "1"}
    response = client.post(move_url(in_quote), {**data, "won_amount": "1200", "body": "Signed"}, headers=HTMX)
    assert response.status_code == 200
    deal = fresh(in_quote)
    assert (deal.status, deal.amount, deal.close_reason) == (Opportunity.Status.WON, Decimal("1200.00"), "Signed")
    assert f'data-remove="opp-{deal.pk}"' in response.content.decode()  # off the board


def test_it_asks_for_the_lost_reason_when_dropped_on_lost(client, deal, rep, stages, lost_reason):
    client.force_login(rep)
    response = board_move(client, deal, stages["Lost"])
    assert response.status_code == 422
    assert 'name="lost_reason"' in response.content.decode()
    data = {"stage": stages["Lost"].pk, "version": deal.version, "context": "board", "confirm": "1"}
    response = client.post(move_url(deal), data, headers=HTMX)
    assert response.status_code == 422
    assert response.context["dialog"].errors["lost_reason"]
    assert fresh(deal).status == Opportunity.Status.OPEN
    response = client.post(move_url(deal), {**data, "lost_reason": lost_reason.pk}, headers=HTMX)
    assert response.status_code == 200
    assert (fresh(deal).status, fresh(deal).lost_reason) == (Opportunity.Status.LOST, lost_reason)


def test_it_refuses_a_win_without_an_owner_in_the_dialog(client, make_deal, manager, stages):
    pooled = make_deal(owner=None, stage=stages["Quote"], probability=70)
    client.force_login(manager)
    data = {"stage": stages["Won"].pk, "version": pooled.version, "context": "board", "confirm": "1"}
    response = client.post(move_url(pooled), data, headers=HTMX)
    assert response.status_code == 422
    assert "Assign the opportunity to a rep before marking it won." in response.content.decode()
    assert fresh(pooled).status == Opportunity.Status.OPEN


def test_it_refuses_a_stale_card_with_the_card_as_it_is(client, deal, rep, manager, stages):
    client.force_login(rep)
    stale_version = deal.version
    opportunity_update(opportunity=deal, by=manager, version=stale_version, title="Renamed meanwhile")
    response = client.post(
        move_url(deal), {"stage": stages["Sample"].pk, "version": stale_version, "context": "board"}, headers=HTMX
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this record" in html and "Renamed meanwhile" in html
    assert f'data-stage="{stages["New"].pk}"' in html  # board.js puts the card back where it really is
    assert fresh(deal).stage == stages["New"]


def test_it_refuses_moving_a_closed_deal_with_a_message(client, in_quote, rep, stages):
    opportunity_move_stage(opportunity=in_quote, stage=stages["Won"], by=rep)
    client.force_login(rep)
    response = board_move(client, in_quote, stages["New"])
    assert response.status_code == 400
    assert "reopen it first" in response.content.decode()
    assert f'data-remove="opp-{in_quote.pk}"' in response.content.decode()


def test_it_refuses_a_stage_of_another_pipeline(client, deal, rep):
    other = PipelineFactory(name="Other").stages.get(name="Sample")
    client.force_login(rep)
    assert board_move(client, deal, other).status_code == 400
    assert fresh(deal).stage.name == "New"


@pytest.mark.parametrize(
    ("actor", "status"), [("other_rep", 404), ("outsider_manager", 404), ("manager", 200), ("admin", 200)]
)
def test_it_moves_only_for_who_may_work_the_deal(client, deal, stages, other_team, actor, status, request):
    client.force_login(request.getfixturevalue(actor))
    assert board_move(client, deal, stages["Sample"]).status_code == status
    assert (fresh(deal).stage.name == "Sample") is (status == 200)


def test_it_needs_the_csrf_token(deal, rep, stages):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    data = {"stage": stages["Sample"].pk, "version": deal.version, "context": "board"}
    assert client.post(move_url(deal), data, headers=HTMX).status_code == 403
    assert fresh(deal).stage == stages["New"]
    page = client.get(board_url())
    token = re.search(r'data-csrf="([^"]+)"', page.content.decode()).group(1)
    response = client.post(move_url(deal), data, headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200
    assert fresh(deal).stage == stages["Sample"]


def test_it_refuses_get(client, deal, rep):
    client.force_login(rep)
    assert client.get(move_url(deal)).status_code == 405


def test_it_keeps_a_constant_number_of_queries_per_move(client, make_deal, rep, stages, django_assert_num_queries):
    client.force_login(rep)
    first = make_deal(owner=rep)
    board_move(client, first, stages["Sample"])
    second = make_deal(owner=rep)
    with django_assert_num_queries(15 + team_scope_queries()) as captured:
        board_move(client, second, stages["Sample"])
    for _ in range(40):
        make_deal(owner=rep)
    third = make_deal(owner=rep)
    with django_assert_num_queries(len(captured)):
        board_move(client, third, stages["Sample"])


# --- the same endpoint from the opportunity page -------------------------------------------


def test_it_redirects_htmx_to_the_page_after_a_move_from_the_stage_path(client, deal, rep, stages):
    client.force_login(rep)
    response = client.post(
        move_url(deal), {"stage": stages["Sample"].pk, "version": deal.version, "context": "detail"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("opportunities:detail", args=[deal.pk])


def test_it_works_without_javascript(client, in_sample, rep, stages):
    client.force_login(rep)
    response = client.post(move_url(in_sample), {"stage": stages["Quote"].pk, "version": in_sample.version})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<dialog" in html and " open>" in html.split("<dialog", 1)[1].split(">", 1)[0] + ">"
    assert "<h1>" in html  # the whole opportunity page, with the dialog in it
    response = client.post(move_url(in_sample), {"stage": stages["New"].pk, "version": in_sample.version})
    assert response.status_code == 302
    assert response["Location"] == reverse("opportunities:detail", args=[in_sample.pk])


def test_it_answers_a_refusal_on_the_page_with_422_for_htmx(client, in_quote, rep, stages):
    """django-htmx's debug helper replaces the page on 400/403: refusals shown in the dialog slot are 422."""
    opportunity_move_stage(opportunity=in_quote, stage=stages["Won"], by=rep)
    client.force_login(rep)
    response = client.post(move_url(in_quote), {"stage": stages["New"].pk, "context": "detail"}, headers=HTMX)
    assert response.status_code == 422
    assert "reopen it first" in response.content.decode()


def test_it_asks_for_the_evidence_in_chinese_too(client, in_sample, rep, stages):
    """The dialog reads the service's own sentences in the active language to know what to ask."""
    client.force_login(rep)
    response = client.post(
        move_url(in_sample),
        {"stage": stages["Quote"].pk, "version": in_sample.version, "context": "board"},
        headers={**HTMX, "Accept-Language": "zh-hans"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "快递单号" in html and "Tracking number" not in html
    assert 'type="file"' in html and 'name="tracking_number"' in html
    assert set(response.context["dialog"].fields) >= {"files", "tracking_number"}


def test_it_shows_the_board_in_chinese(client, rep, deal):
    client.force_login(rep)
    html = client.get(board_url(), headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "销售看板" in html and "Pipeline board" not in html


def test_its_kept_statements_follow_the_scope_the_stages_and_the_page_size(
    client, make_deal, rep, other_team, outsider_rep, stages
):
    """The unfiltered board's statements are kept per visibility scope, pipeline, open stages and
    page size (``_board_statements``): each change shows at once, in the same process."""
    from stages.models import Stage

    mine = make_deal(owner=rep, title="Mine")
    theirs = make_deal(owner=outsider_rep, team=other_team, title="Theirs")
    client.force_login(rep)
    html = client.get(board_url()).content.decode()
    assert f'id="opp-{mine.pk}"' in html and f'id="opp-{theirs.pk}"' not in html
    other_team.managers.add(rep)  # the scope
    html = client.get(board_url()).content.decode()
    assert f'id="opp-{mine.pk}"' in html and f'id="opp-{theirs.pk}"' in html
    extra = Stage.objects.create(pipeline=mine.pipeline, name="Visit", order=2, probability=30)  # the stages
    Opportunity.objects.filter(pk=mine.pk).update(stage=extra)
    columns = {column.stage.name: column for column in client.get(board_url()).context["columns"]}
    assert [card.pk for card in columns["Visit"].cards] == [mine.pk]
    Opportunity.objects.filter(pk=theirs.pk).update(stage=extra)
    stages_now = list(mine.pipeline.stages.all())
    for size in (1, 2):  # the page size
        columns = selectors_board.board_columns_unfiltered(
            user=rep, pipeline=mine.pipeline, stages=stages_now, page_size=size
        )
        assert sum(len(column.cards) for column in columns) == size
