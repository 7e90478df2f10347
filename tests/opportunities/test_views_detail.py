"""The opportunity page (opportunities:detail) and its forms: activity, close date, close,
reopen, edit. Stage moves from the page are in test_views_board.py (the same endpoint)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from crm.dates import company_today
from opportunities.models import Activity, Assignment, Attachment, CloseDateChange, FieldChange, Opportunity
from opportunities.services import (
    opportunity_add_activity,
    opportunity_assign,
    opportunity_close,
    opportunity_move_stage,
    opportunity_push_close_date,
    opportunity_update,
)
from tests.factories import ContactFactory, LeadSourceFactory, upload
from tests.query_counts import team_scope_queries

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def url(deal, name: str = "detail") -> str:
    return reverse(f"opportunities:{name}", args=[deal.pk])


def fresh(deal) -> Opportunity:
    return Opportunity.objects.get(pk=deal.pk)


def in_days(days: int) -> datetime.date:
    return company_today() + datetime.timedelta(days=days)


def edit_data(deal, **changes) -> dict:
    """The edit form as the page renders it for a rep (was-* values and version included)."""
    data = {
        "version": deal.version,
        "title": deal.title,
        "contact": deal.contact_id or "",
        "source": deal.source_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "description": deal.description,
    }
    data.update({f"was-{name}": "" if value is None else value for name, value in data.items() if name != "version"})
    data.update(changes)
    return data


@pytest.fixture
def history(deal, rep, other_rep, manager, stages):
    """A deal worked by rep, then handed over to other_rep: every kind of event once."""
    opportunity_add_activity(opportunity=deal, by=rep, kind="call", body="Buyer wants 500 pcs, CE marked")
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    opportunity_add_activity(
        opportunity=deal,
        by=rep,
        kind="sample",
        body="Sent two samples",
        carrier="DHL",
        tracking_number="JD0146000012345",
        files=[upload("样品.png"), upload("spec.pdf", PDF)],
    )
    deal = fresh(deal)
    opportunity_push_close_date(opportunity=deal, by=rep, new_date=in_days(60), reason="Buyer on holiday")
    deal = fresh(deal)
    opportunity_update(opportunity=deal, by=rep, version=deal.version, amount=Decimal("2500"))
    opportunity_assign(opportunity_ids=[deal.pk], owner=other_rep, by=manager, reason="rep leaves the company")
    return fresh(deal)


# --- the page, per role -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "status"),
    [("rep", 200), ("other_rep", 404), ("manager", 200), ("outsider_manager", 404), ("admin", 200)],
)
def test_it_shows_the_page_to_who_may_see_the_deal(client, deal, other_team, viewer, status, request):
    client.force_login(request.getfixturevalue(viewer))
    response = client.get(url(deal))
    assert response.status_code == status
    if status == 200:
        assert deal.title in response.content.decode()


def test_it_follows_a_change_of_who_may_see_the_deal_at_once(client, deal, other_rep, other_team, team):
    """The page's statement is kept per visibility scope: a user who starts or stops managing
    the deal's team sees the page, or a 404, on the next request of the same process."""
    client.force_login(other_rep)
    assert client.get(url(deal)).status_code == 404
    team.managers.add(other_rep)
    assert client.get(url(deal)).status_code == 200
    team.managers.remove(other_rep)
    assert client.get(url(deal)).status_code == 404
    other_team.managers.add(other_rep)  # another team: still not this deal's
    assert client.get(url(deal)).status_code == 404


@pytest.mark.parametrize("pk", [0, -1, 2**63, 10**30])
def test_it_answers_404_for_an_id_no_deal_can_have(client, rep, deal, pk):
    from opportunities.selectors_detail import opportunity_get_for_page

    with pytest.raises(Opportunity.DoesNotExist):
        opportunity_get_for_page(user=rep, pk=pk)


def test_it_sends_an_anonymous_visitor_to_the_login_page(client, deal):
    response = client.get(url(deal))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_it_answers_404_for_an_unknown_deal(client, rep):
    client.force_login(rep)
    assert client.get(reverse("opportunities:detail", args=[999999])).status_code == 404


def test_it_shows_the_key_fields(client, make_deal, rep, manager, stages):
    contact = ContactFactory(name="Anna Weber", email="anna@mueller.example")
    deal = make_deal(
        owner=rep,
        customer=contact.customer,
        contact=contact,
        amount=Decimal("12000"),
        currency="USD",
        exchange_rate=Decimal("7.1"),
        amount_base=Decimal("85200"),
        difficulty=Decimal("2.50"),
        is_new_customer=True,
        close_date_pushes=2,
    )
    client.force_login(rep)
    html = client.get(url(deal)).content.decode()
    for text in (
        "Anna Weber",
        "anna@mueller.example",
        "$12,000",
        "¥85,200",
        "× 2.50",
        "New customer",
        "pushed 2 times",
        "from the stage",
        deal.source.name,
        deal.team.name,
    ):
        assert text in html, text


def test_it_shows_the_stage_path_with_the_current_stage_marked(client, deal, rep, stages):
    client.force_login(rep)
    html = client.get(url(deal)).content.decode()
    path = re.search(r'<form class="stage-path".*?</form>', html, re.S).group(0)
    assert [name for name in re.findall(r'<span class="step-name">([^<]+)</span>', path)] == [
        "New",
        "Sample",
        "Quote",
        "Won",
        "Lost",
    ]
    current = re.search(r'<li class="step step-current[^"]*">.*?</li>', path, re.S).group(0)
    assert "New" in current and 'aria-current="step"' in current
    assert f'hx-post="{url(deal, "move")}"' in path


def test_it_says_what_the_current_stage_still_needs(client, deal, rep, stages):
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)
    client.force_login(rep)
    html = client.get(url(deal)).content.decode()
    assert "Attach a file (e.g. a sample photo) in the stage “Sample”." in html


def test_it_shows_the_whole_history_to_the_successor(client, history, other_rep, rep, manager):
    client.force_login(other_rep)
    response = client.get(url(history))
    assert response.status_code == 200
    html = response.content.decode()
    types = [event["type"] for event in response.context["timeline"]]
    assert set(types) >= {"created", "assigned", "stage_changed", "close_date_changed", "field_changed", "activity"}
    assert "Buyer wants 500 pcs, CE marked" in html and "Sent two samples" in html
    assert "DHL" in html and "JD0146000012345" in html
    photo = Attachment.objects.get(opportunity=history, original_name="样品.png")
    pdf = Attachment.objects.get(opportunity=history, original_name="spec.pdf")
    download = reverse("opportunities:attachment_download", args=[photo.pk])
    assert f'<img src="{download}"' in html  # a thumbnail for the photo
    assert f'href="{reverse("opportunities:attachment_download", args=[pdf.pk])}">spec.pdf</a>' in html
    assert "Handed over from rep to other_rep" in html and "rep leaves the company" in html
    assert "Buyer on holiday" in html and "Close date pushed from" in html
    assert "Amount changed" in html
    # and the successor may open the files
    assert client.get(download).status_code == 200


def test_it_shows_names_for_edited_foreign_keys(client, deal, rep):
    other = LeadSourceFactory(name="阿里巴巴国际站")
    opportunity_update(opportunity=deal, by=rep, version=deal.version, source=other)
    client.force_login(rep)
    html = client.get(url(deal)).content.decode()
    assert f'{deal.source.name}</span> → <span class="new">阿里巴巴国际站' in html


def test_it_keeps_a_constant_number_of_queries_whatever_the_history(
    client, deal, rep, stages, lost_reason, django_assert_num_queries
):
    client.force_login(rep)
    opportunity_add_activity(opportunity=deal, by=rep, kind="note", body="first", files=[upload()])
    client.get(url(deal))
    # session, user (with the bell's count), [the user's teams (visibility)], the deal, stages,
    # the timeline's page (one UNION ALL, people's names joined in), its files; the forms behind
    # a button (and their choices) load on demand, and whether the user manages the team is
    # asked only on a closed deal
    with django_assert_num_queries(6 + team_scope_queries()) as captured:
        client.get(url(deal))
    for index in range(50):
        opportunity_add_activity(opportunity=deal, by=rep, kind="call", body=f"call {index}", files=[upload()])
        deal = fresh(deal)
        opportunity_push_close_date(opportunity=deal, by=rep, new_date=in_days(31 + index), reason="later")
    with django_assert_num_queries(len(captured)):
        response = client.get(url(deal))
    assert response.context["timeline_total"] > 100 and len(response.context["timeline"]) == 50


# --- forms by role ---------------------------------------------------------------------------


def test_it_hides_the_manager_fields_from_a_rep(client, deal, rep):
    client.force_login(rep)
    html = client.get(url(deal) + "?form=edit").content.decode()  # the form behind "Edit details"
    form = re.search(r'<form method="post" action="' + re.escape(url(deal, "edit")) + '".*?</form>', html, re.S)
    for name in ("difficulty", "owner", "probability", "probability_is_manual", "is_new_customer", "is_new_product"):
        assert f'name="{name}"' not in form.group(0), name
    assert 'name="title"' in form.group(0)
    assert 'id="reopen"' not in html


def test_it_offers_the_manager_fields_to_a_manager(client, deal, manager):
    client.force_login(manager)
    html = client.get(url(deal) + "?form=edit").content.decode()
    for name in ("difficulty", "owner", "probability", "is_new_customer", "is_new_product"):
        assert f'name="{name}"' in html, name


def test_it_offers_reopen_to_a_manager_only(client, deal, rep, manager, lost_reason):
    opportunity_close(opportunity=deal, outcome="lost", by=rep, lost_reason=lost_reason)
    client.force_login(rep)
    assert 'id="reopen"' not in client.get(url(deal)).content.decode()
    client.force_login(manager)
    assert 'id="reopen"' in client.get(url(deal)).content.decode()


# --- log an activity --------------------------------------------------------------------------


def test_it_logs_an_activity_with_several_files(client, deal, rep):
    client.force_login(rep)
    response = client.post(
        url(deal, "activity"),
        {
            "kind": "sample",
            "body": "Samples out",
            "carrier": "SF",
            "tracking_number": "SF99",
            "files": [upload("a.png"), upload("b.pdf", PDF)],
        },
    )
    assert response.status_code == 302 and response["Location"] == url(deal)
    activity = Activity.objects.get(opportunity=deal)
    assert (activity.kind, activity.tracking_number, activity.stage_id, activity.author) == (
        "sample",
        "SF99",
        deal.stage_id,
        rep,
    )
    assert sorted(activity.attachments.values_list("content_type", flat=True)) == ["application/pdf", "image/png"]


def test_it_refuses_an_activity_with_a_bad_file_keeping_the_text(client, deal, rep):
    client.force_login(rep)
    response = client.post(
        url(deal, "activity"),
        {"kind": "note", "body": "See attached", "files": [upload("x.png", b"\x00\x01 not an image" * 40)]},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "not an allowed file type" in html and "See attached" in html
    assert not Activity.objects.exists() and not Attachment.objects.exists()


def test_it_refuses_an_empty_activity(client, deal, rep):
    client.force_login(rep)
    response = client.post(url(deal, "activity"), {"kind": "note"})
    assert response.status_code == 400
    assert "Write what happened" in response.content.decode()


@pytest.mark.parametrize(
    ("actor", "status"), [("other_rep", 404), ("outsider_manager", 404), ("manager", 302), ("admin", 302)]
)
def test_it_logs_activities_only_for_who_may_work_the_deal(client, deal, other_team, actor, status, request):
    client.force_login(request.getfixturevalue(actor))
    assert client.post(url(deal, "activity"), {"kind": "note", "body": "hello"}).status_code == status
    assert Activity.objects.filter(opportunity=deal).exists() is (status == 302)


def test_it_needs_the_csrf_token_to_log_an_activity(deal, rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(url(deal, "activity"), {"kind": "note", "body": "hello"}).status_code == 403
    page = client.get(url(deal)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"kind": "note", "body": "hello", "csrfmiddlewaretoken": token}
    assert client.post(url(deal, "activity"), data).status_code == 302
    assert Activity.objects.filter(opportunity=deal, body="hello").exists()


# --- close date, close, reopen --------------------------------------------------------------


def test_it_pushes_the_close_date_with_a_reason(client, deal, rep):
    client.force_login(rep)
    data = {"version": deal.version, "new_date": in_days(45).isoformat(), "reason": "Trade fair in between"}
    assert client.post(url(deal, "push_date"), data).status_code == 302
    deal = fresh(deal)
    assert (deal.expected_close_date, deal.close_date_pushes) == (in_days(45), 1)
    assert CloseDateChange.objects.get(opportunity=deal).reason == "Trade fair in between"


def test_it_refuses_a_close_date_in_the_past_or_without_a_reason(client, deal, rep):
    client.force_login(rep)
    response = client.post(
        url(deal, "push_date"), {"version": deal.version, "new_date": in_days(-1).isoformat(), "reason": "x"}
    )
    assert response.status_code == 400
    assert "cannot be in the past" in response.content.decode()
    response = client.post(url(deal, "push_date"), {"version": deal.version, "new_date": in_days(50).isoformat()})
    assert response.status_code == 400
    assert fresh(deal).close_date_pushes == 0


def test_it_closes_as_won_with_the_amount(client, make_deal, rep, stages):
    deal = make_deal(owner=rep, stage=stages["Quote"], probability=70)
    client.force_login(rep)
    response = client.post(url(deal, "close"), {"version": deal.version, "outcome": "won", "won_amount": "1500"})
    assert response.status_code == 302
    deal = fresh(deal)
    assert (deal.status, deal.amount, deal.stage) == (Opportunity.Status.WON, Decimal("1500.00"), stages["Won"])


def test_it_needs_a_reason_to_close_as_lost(client, deal, rep, lost_reason):
    client.force_login(rep)
    response = client.post(url(deal, "close"), {"version": deal.version, "outcome": "lost"})
    assert response.status_code == 400
    assert "Say why the deal was lost." in response.content.decode()
    assert fresh(deal).status == Opportunity.Status.OPEN
    response = client.post(
        url(deal, "close"), {"version": deal.version, "outcome": "lost", "lost_reason": lost_reason.pk}
    )
    assert response.status_code == 302
    assert fresh(deal).status == Opportunity.Status.LOST


def test_it_lets_a_manager_reopen(client, deal, rep, manager, lost_reason):
    opportunity_close(opportunity=deal, outcome="lost", by=rep, lost_reason=lost_reason)
    client.force_login(manager)
    data = {"version": fresh(deal).version, "expected_close_date": in_days(20).isoformat(), "reason": "Buyer came back"}
    assert client.post(url(deal, "reopen"), data).status_code == 302
    assert fresh(deal).status == Opportunity.Status.OPEN


def test_it_refuses_a_rep_reopening(client, deal, rep, lost_reason):
    opportunity_close(opportunity=deal, outcome="lost", by=rep, lost_reason=lost_reason)
    client.force_login(rep)
    data = {"version": fresh(deal).version, "expected_close_date": in_days(20).isoformat()}
    response = client.post(url(deal, "reopen"), data)
    assert response.status_code == 403
    assert "Only a manager of this team can do that." in response.content.decode()
    assert fresh(deal).status == Opportunity.Status.LOST


# --- edit with the optimistic lock -----------------------------------------------------------


def test_it_saves_an_edit(client, deal, rep):
    client.force_login(rep)
    response = client.post(url(deal, "edit"), edit_data(deal, title="600 LED panels", amount="1800"))
    assert response.status_code == 302
    deal = fresh(deal)
    assert (deal.title, deal.amount) == ("600 LED panels", Decimal("1800.00"))
    assert set(FieldChange.objects.filter(opportunity=deal).values_list("field", flat=True)) >= {"title", "amount"}


def test_it_ignores_manager_fields_a_rep_posts(client, deal, rep):
    client.force_login(rep)
    response = client.post(
        url(deal, "edit"), edit_data(deal, difficulty="9.00", is_new_product="on", title="Same deal")
    )
    assert response.status_code == 302
    deal = fresh(deal)
    assert (deal.difficulty, deal.is_new_product, deal.title) == (Decimal("1.00"), False, "Same deal")


def test_it_lets_a_manager_set_difficulty_probability_and_owner(client, deal, manager, other_rep):
    client.force_login(manager)
    data = edit_data(
        deal,
        owner=other_rep.pk,
        difficulty="2.50",
        probability_is_manual="on",
        probability="35",
        is_new_customer="on",
        reason="Knows the buyer",
    )
    assert client.post(url(deal, "edit"), data).status_code == 302
    deal = fresh(deal)
    assert (deal.owner, deal.difficulty, deal.probability, deal.probability_is_manual, deal.is_new_customer) == (
        other_rep,
        Decimal("2.50"),
        35,
        True,
        True,
    )
    assert Assignment.objects.get(opportunity=deal, to_owner=other_rep).reason == "Knows the buyer"


def test_it_shows_a_conflict_and_keeps_the_input(client, deal, rep, manager):
    client.force_login(rep)
    opened = edit_data(deal, title="My new title", description="My careful notes")
    opportunity_update(opportunity=deal, by=manager, version=deal.version, amount=Decimal("4321"))
    response = client.post(url(deal, "edit"), opened)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this deal while you were editing." in html
    assert 'value="My new title"' in html and "My careful notes" in html  # the input is kept
    changes = response.context["edit_form"].changed_meanwhile
    assert [(change["field"], change["was"], change["now"]) for change in changes] == [("amount", "1000.00", "4321.00")]
    deal = fresh(deal)
    assert (deal.title, deal.amount) == ("500 LED panels for Müller", Decimal("4321.00"))
    # Saving the kept form again applies it on top of what the user has now seen.
    again = {key: value for key, value in response.context["edit_form"].data.items()}
    assert client.post(url(deal, "edit"), again).status_code == 302
    deal = fresh(deal)
    assert (deal.title, deal.description, deal.amount) == ("My new title", "My careful notes", Decimal("1000.00"))


def test_it_refuses_a_stale_close_date_form_and_offers_the_current_version(client, deal, rep, manager):
    client.force_login(rep)
    stale = deal.version
    opportunity_update(opportunity=deal, by=manager, version=stale, title="Renamed")
    response = client.post(
        url(deal, "push_date"), {"version": stale, "new_date": in_days(40).isoformat(), "reason": "x"}
    )
    assert response.status_code == 409
    assert response.context["push_form"]["version"].value() == str(fresh(deal).version)
    assert fresh(deal).close_date_pushes == 0


@pytest.mark.parametrize("name", ["activity", "push_date", "close", "reopen", "edit"])
def test_it_answers_404_to_an_outsider_posting(client, deal, other_rep, name):
    client.force_login(other_rep)
    assert client.post(url(deal, name), {"version": deal.version}).status_code == 404


@pytest.mark.parametrize("name", ["activity", "push_date", "close", "reopen", "edit"])
def test_it_refuses_get_on_the_forms(client, deal, rep, name):
    client.force_login(rep)
    assert client.get(url(deal, name)).status_code == 405
