"""crm.page_cache: a kept page is sent again only to its session, at its database snapshot.

These tests commit (a kept page needs requests outside any transaction), so they run on
PostgreSQL with transaction=True. Other test processes share the server and each of their
writes changes the snapshot, so a test that needs a hit asks again until two requests in a
row share one (``a_hit``); what a test checks after a write does not depend on timing.
"""

import datetime
import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from crm import page_cache
from opportunities.services import opportunity_update

LIST = reverse("opportunities:list")

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="snapshots are PostgreSQL's")
pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_cache():
    page_cache.pages.clear()
    yield
    page_cache.pages.clear()


def signed_in(user, **extra) -> Client:
    client = Client(**extra)
    client.force_login(user)
    return client


def a_hit(client: Client, url: str = LIST, **extra):
    """GET ``url`` until it is answered from the cache; (first, hit) responses."""
    for _ in range(50):
        first = client.get(url, **extra)
        hits = page_cache.pages.hits
        second = client.get(url, **extra)
        if page_cache.pages.hits > hits:
            return first, second
    pytest.fail("50 pairs of requests in a row and none shared a snapshot")


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def without_tokens(html: str) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", html)


@postgresql
def test_a_page_asked_again_with_nothing_changed_is_the_same_page_from_the_cache(rep, deal):
    client = signed_in(rep)
    first, second = a_hit(client)
    assert second.status_code == 200
    assert second.context is None  # no template was rendered for it
    assert "500 LED panels for Müller" in second.content.decode()
    assert without_tokens(second.content.decode()) == without_tokens(first.content.decode())
    assert second["Content-Type"] == first["Content-Type"]


@postgresql
def test_a_kept_page_carries_a_csrf_token_its_reader_can_post_with(rep, deal):
    client = signed_in(rep, enforce_csrf_checks=True)
    first, second = a_hit(client)
    tokens = set(TOKEN.findall(second.content.decode()))
    assert len(tokens) == 1  # one token for the whole page
    assert tokens != set(TOKEN.findall(first.content.decode()))  # masked anew
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": tokens.pop()})
    assert response.status_code == 302


@postgresql
def test_a_browser_without_a_csrf_cookie_gets_one_that_fits_the_kept_pages_token(rep, deal):
    client = signed_in(rep, enforce_csrf_checks=True)
    for _ in range(50):
        client.cookies.pop("csrftoken", None)
        client.get(LIST)
        client.cookies.pop("csrftoken", None)
        hits = page_cache.pages.hits
        response = client.get(LIST)
        if page_cache.pages.hits > hits:
            break
    else:
        pytest.fail("50 pairs of requests in a row and none shared a snapshot")
    assert response.cookies["csrftoken"].value  # a new secret, made for this request
    token = TOKEN.search(response.content.decode()).group(1)
    assert client.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302


@postgresql
def test_a_committed_change_is_shown_at_once(rep, deal):
    client = signed_in(rep)
    a_hit(client)
    opportunity_update(opportunity=deal, by=rep, version=deal.version, title="600 LED panels for Müller")
    html = client.get(LIST).content.decode()
    assert "600 LED panels for Müller" in html
    assert "500 LED panels for Müller" not in html


@postgresql
def test_another_user_or_session_never_gets_the_kept_page(rep, other_rep, deal):
    a_hit(signed_in(rep))
    for client in (signed_in(other_rep), signed_in(rep)):  # another user; the same user elsewhere
        hits = page_cache.pages.hits
        response = client.get(LIST)
        assert page_cache.pages.hits == hits
        assert response.context is not None
    assert "500 LED panels for Müller" not in signed_in(other_rep).get(LIST).content.decode()


@postgresql
def test_a_signed_out_session_gets_the_login_page_not_the_kept_one(rep, deal):
    client = signed_in(rep)
    a_hit(client)
    cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    stale = Client()
    stale.cookies["sessionid"] = cookie
    response = stale.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@postgresql
def test_each_query_string_language_and_htmx_request_is_its_own_page(rep, deal):
    client = signed_in(rep)
    a_hit(client)
    for extra in ({"data": {"q": "LED"}}, {"HTTP_HX_REQUEST": "true"}, {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}):
        hits = page_cache.pages.hits
        response = client.get(LIST, **extra)
        assert page_cache.pages.hits == hits, extra
        assert response.context is not None
    partial = client.get(LIST, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial


@postgresql
def test_a_new_company_day_renders_the_page_again(rep, deal, settings, time_machine):
    settings.SESSION_COOKIE_AGE = 3 * 24 * 3600
    client = signed_in(rep)
    a_hit(client)
    time_machine.move_to(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1))
    hits = page_cache.pages.hits
    assert client.get(LIST).context is not None
    assert page_cache.pages.hits == hits


def message_cookie(text: str) -> str:
    """The value of Django's messages cookie holding one pending message."""
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(constants.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    return response.cookies[storage.cookie_name].value


@postgresql
def test_a_page_with_a_message_to_show_is_rendered_and_shows_it(rep, deal):
    client = signed_in(rep)
    for attempt in range(20):  # without the rule, some of these would be answered from the cache
        a_hit(client)
        client.cookies["messages"] = message_cookie(f"Saved {attempt}.")
        response = client.get(LIST)
        assert f"Saved {attempt}." in response.content.decode()
        assert response.context is not None
        assert f"Saved {attempt}." not in client.get(LIST).content.decode()  # shown once


@postgresql
def test_nothing_is_kept_inside_a_transaction_whose_own_writes_the_snapshot_does_not_show(rep, deal):
    client = signed_in(rep)
    with transaction.atomic():
        deal = opportunity_update(opportunity=deal, by=rep, version=deal.version, title="Written in here")
        for _ in range(3):
            assert "Written in here" in client.get(LIST).content.decode()
        opportunity_update(opportunity=deal, by=rep, version=deal.version, title="Written again")
        assert "Written again" in client.get(LIST).content.decode()
    assert len(page_cache.pages) == 0
    assert page_cache.pages.hits == 0


@postgresql
def test_a_cache_of_zero_bytes_keeps_nothing(rep, deal, settings):
    settings.JIHUI_PAGE_CACHE_BYTES = 0
    client = signed_in(rep)
    for _ in range(3):
        assert client.get(LIST).context is not None
    assert len(page_cache.pages) == 0


@postgresql
def test_the_session_is_read_with_its_snapshot(rep):
    client = signed_in(rep)
    client.get(LIST)
    from crm.sessions import SessionStore

    session = SessionStore(client.cookies["sessionid"].value)
    session.load()
    assert re.fullmatch(r"\d+:\d+:[\d,]*", session.snapshot)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases")
def test_without_snapshots_nothing_is_kept(rep, deal):
    client = signed_in(rep)
    for _ in range(3):
        assert client.get(LIST).context is not None
    assert len(page_cache.pages) == 0


def test_the_oldest_pages_make_room_within_the_bound():
    pages = page_cache._Pages()
    page = page_cache._Page(status=200, headers=(), body=b"x" * 488, token=None)  # 1,000 bytes counted
    for key in range(5):
        pages.put((key,), page, limit=3_000)
    assert len(pages) == 3
    assert pages.get((0,)) is None and pages.get((4,)) is page
    pages.put(("big",), page_cache._Page(status=200, headers=(), body=b"x" * 5_000, token=None), limit=3_000)
    assert pages.get(("big",)) is None
