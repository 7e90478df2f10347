"""The opportunity page at scale: the same few queries for a fresh deal and a long history; the
newest events first, earlier ones a page at a time ("Show earlier events", with htmx or as a
plain link); the forms behind a button loaded when opened, with or without JS."""

import datetime
import re

import pytest
from django.urls import reverse

from crm.dates import company_today
from opportunities.models import Opportunity
from opportunities.selectors_timeline import TIMELINE_PAGE_SIZE, opportunity_timeline
from opportunities.services import (
    opportunity_add_activity,
    opportunity_create,
    opportunity_move_stage,
    opportunity_push_close_date,
    opportunity_update,
)
from tests.factories import LeadSourceFactory, upload

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
HTMX = {"HX-Request": "true"}


def detail(deal) -> str:
    return reverse("opportunities:detail", args=[deal.pk])


def history(deal) -> str:
    return reverse("opportunities:history", args=[deal.pk])


def fresh(deal) -> Opportunity:
    return Opportunity.objects.get(pk=deal.pk)


def earlier_link(html: str) -> str | None:
    """The "Show earlier events" link's address, or None when the oldest event is shown."""
    found = re.search(r'<p class="timeline-earlier"[^>]*><a class="button-subtle" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def events_in(html: str) -> list[str]:
    return re.findall(r'<li class="event event-([a-z_]+)">', html)


@pytest.fixture
def new_deal(rep, team, pipeline, source, customer):
    """A deal just made through the service: created, and assigned to ``rep``."""
    return opportunity_create(
        by=rep,
        title="Brake pads for Hamburg",
        customer=customer,
        pipeline=pipeline,
        source=source,
        team=team,
        owner=rep,
        expected_close_date=company_today() + datetime.timedelta(days=30),
    )


def add_long_history(deal, rep, stages) -> Opportunity:
    """200 more events: activities (some with files), moves, close-date pushes and an edit."""
    for index in range(100):
        files = [upload(f"photo-{index}.png")] if index % 10 == 0 else []
        opportunity_add_activity(opportunity=deal, by=rep, kind="call", body=f"call {index}", files=files)
    for index in range(50):
        opportunity_move_stage(opportunity=deal, stage=stages["Sample" if index % 2 == 0 else "New"], by=rep)
    deal = fresh(deal)
    for index in range(49):
        opportunity_push_close_date(
            opportunity=deal, by=rep, new_date=company_today() + datetime.timedelta(days=31 + index), reason="later"
        )
        deal = fresh(deal)
    opportunity_update(opportunity=deal, by=rep, version=deal.version, source=LeadSourceFactory(name="Canton Fair"))
    return fresh(deal)


@pytest.fixture
def long_deal(new_deal, rep, stages):
    return add_long_history(new_deal, rep, stages)


def test_it_asks_the_same_few_queries_for_a_fresh_deal_and_two_hundred_events_more(
    client, new_deal, rep, stages, django_assert_max_num_queries, django_assert_num_queries
):
    client.force_login(rep)
    client.get(detail(new_deal))
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(detail(new_deal))
    assert [event["type"] for event in response.context["timeline"]] == ["assigned", "created"]
    deal = add_long_history(new_deal, rep, stages)
    with django_assert_num_queries(len(captured)):
        response = client.get(detail(deal))
    assert response.context["timeline_total"] >= 201
    assert len(response.context["timeline"]) == TIMELINE_PAGE_SIZE
    # No server-side cursor (ModelChoiceIterator) and no form choices on the page itself.
    assert not any(query["sql"].startswith("DECLARE") for query in captured.captured_queries)


def test_it_shows_the_newest_events_first_and_the_earlier_ones_page_by_page(client, long_deal, rep):
    client.force_login(rep)
    html = client.get(detail(long_deal)).content.decode()
    assert events_in(html)[0] == "field_changed"  # the latest: the edit
    assert "Canton Fair" in html
    expected = [event["type"] for event in reversed(opportunity_timeline(opportunity=long_deal))]
    assert f"{len(expected)} events" in html
    shown = events_in(html)
    link = earlier_link(html)
    pages = 1
    while link:
        assert link.startswith(history(long_deal) + "?before=")
        part = client.get(link, headers=HTMX)
        assert part.status_code == 200
        text = part.content.decode()
        assert "<html" not in text  # htmx gets the next items and the new link only
        assert 'id="timeline-earlier" hx-swap-oob="true"' in text
        shown += events_in(text)
        link = earlier_link(text)
        pages += 1
    assert shown == expected  # every event once, in the order of the API's history
    assert pages == -(-len(expected) // TIMELINE_PAGE_SIZE)
    assert shown[-1] == "created"


def test_it_pages_the_history_with_a_constant_number_of_queries(client, long_deal, rep, django_assert_max_num_queries):
    client.force_login(rep)
    link = earlier_link(client.get(detail(long_deal)).content.decode())
    # session, user, the user's teams (visibility), the deal, the page's rows, its files, the bell
    with django_assert_max_num_queries(7):
        response = client.get(link)
    assert response.status_code == 200


def test_it_shows_earlier_events_as_a_plain_page_without_js(client, long_deal, rep):
    client.force_login(rep)
    link = earlier_link(client.get(detail(long_deal)).content.decode())
    response = client.get(link)
    html = response.content.decode()
    assert "<html" in html and "Earlier events" in html
    assert f'href="{detail(long_deal)}"' in html  # back to the deal
    assert len(events_in(html)) == TIMELINE_PAGE_SIZE
    assert earlier_link(html)  # and on to the next page


@pytest.mark.parametrize("before", ["", "nonsense", "1.2", "x.1.2", "9" * 30 + ".1.1"])
def test_it_answers_404_to_a_bad_cursor(client, new_deal, rep, before):
    client.force_login(rep)
    assert client.get(history(new_deal), {"before": before}).status_code == 404


def test_it_answers_404_to_an_outsider_asking_for_earlier_events(client, long_deal, other_rep):
    client.force_login(other_rep)
    assert client.get(history(long_deal), {"before": "1.1.1"}).status_code == 404
    assert client.get(detail(long_deal), {"form": "edit"}, headers=HTMX).status_code == 404


def test_it_loads_a_form_behind_a_button_when_opened(client, new_deal, rep, lost_reason):
    client.force_login(rep)
    html = client.get(detail(new_deal)).content.decode()
    panel = re.search(r'<details class="panel action" id="close-deal".*?</details>', html, re.S).group(0)
    assert 'name="lost_reason"' not in panel
    assert f'hx-get="{detail(new_deal)}?form=close"' in panel and 'hx-trigger="toggle once"' in panel
    # with htmx: the form alone
    part = client.get(detail(new_deal), {"form": "close"}, headers=HTMX).content.decode()
    assert part.lstrip().startswith('<form method="post" action="' + reverse("opportunities:close", args=[new_deal.pk]))
    assert 'name="lost_reason"' in part and lost_reason.name in part and "csrfmiddlewaretoken" in part


def test_it_opens_a_form_behind_a_button_without_js(client, new_deal, rep):
    client.force_login(rep)
    html = client.get(detail(new_deal)).content.decode()
    assert f'href="{detail(new_deal)}?form=edit#edit"' in html  # the fallback link in the panel
    page = client.get(detail(new_deal), {"form": "edit"}).content.decode()
    panel = re.search(r'<details class="panel action" id="edit" open>.*?</details>', page, re.S).group(0)
    assert 'name="title"' in panel and 'name="source"' in panel
    assert '<details class="panel action" id="log-activity">' in page  # no longer the open one


def test_it_does_not_offer_reopen_to_a_rep_on_demand_either(client, new_deal, rep, manager, lost_reason):
    from opportunities.services import opportunity_close

    opportunity_close(opportunity=new_deal, outcome="lost", by=rep, lost_reason=lost_reason)
    client.force_login(rep)
    assert client.get(detail(new_deal), {"form": "reopen"}, headers=HTMX).status_code == 404
    client.force_login(manager)
    part = client.get(detail(new_deal), {"form": "reopen"}, headers=HTMX).content.decode()
    assert 'name="expected_close_date"' in part


@pytest.mark.parametrize(("viewer", "form"), [("rep", "edit"), ("rep", "close"), ("manager", "edit")])
def test_it_reads_a_form_s_choices_with_one_plain_query_each(
    client, new_deal, viewer, form, lost_reason, request, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(viewer))
    client.get(detail(new_deal), {"form": form}, headers=HTMX)
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(detail(new_deal), {"form": form}, headers=HTMX)
    assert response.status_code == 200 and "<option" in response.content.decode()
    # Not through a server-side cursor (DECLARE … FETCH), as ModelChoiceIterator would.
    assert not any(query["sql"].startswith("DECLARE") for query in captured.captured_queries)
