"""Login, logout, password change, the idle session timeout and the lockout after failed logins."""

import time

import pytest
from django.conf import settings
from django.urls import reverse

from crm.sessions import RENEWED_AT

LOGIN = reverse("login")
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's


def fail_login(client, username, times, url=LOGIN, **headers):
    for _ in range(times):
        client.post(url, {"username": username, "password": "wrong"}, **headers)


def test_it_logs_in_and_out(client, rep, team):
    response = client.post(LOGIN, {"username": "rep", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == LOGIN
    assert client.get(reverse("home")).status_code == 302


def test_a_signed_in_user_on_an_unknown_address_gets_the_not_found_page(client, rep, team):
    # The page around it reads which section of the site the address is in: there is none.
    client.raise_request_exception = False
    client.force_login(rep)
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert b"This page does not exist" in response.content
    assert b'aria-current="page"' not in response.content


def test_it_refuses_a_wrong_password_and_keeps_the_user_name(client, rep):
    response = client.post(LOGIN, {"username": "rep", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200 and "Please try again." in body and 'value="rep"' in body


def test_it_shows_the_navigation_a_rep_may_use(client_as, rep, team):
    body = client_as(rep).get(reverse("home")).content.decode()
    assert reverse("opportunities:list") in body and reverse("customers:list") in body
    assert reverse("teams:list") not in body and reverse("opportunities:imports:list") not in body
    assert reverse("admin:index") not in body
    assert 'action="/accounts/logout/"' in body and reverse("password_change") in body
    assert 'action="/i18n/setlang/"' in body


def test_it_shows_managers_the_team_and_import_pages(client_as, manager, team):
    body = client_as(manager).get(reverse("home")).content.decode()
    assert reverse("teams:list") in body and reverse("opportunities:imports:list") in body
    assert reverse("admin:index") not in body


def test_it_shows_admins_the_settings(client_as, admin):
    body = client_as(admin).get(reverse("home")).content.decode()
    assert reverse("admin:index") in body and reverse("teams:list") in body


def test_the_kept_menu_follows_the_role_the_page_and_the_language_at_once(client, rep, team, other_team):
    """The menu is rendered once per language, role and page and kept (crm.templatetags.jihui
    .main_nav): each of those, changed in one process, shows on the next page."""
    import re

    def menu(url, language="en"):
        body = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return re.search(r'<nav class="mainnav".*?</nav>', body, re.S).group(0)

    client.force_login(rep)
    assert reverse("teams:list") not in menu(reverse("home"))
    other_team.managers.add(rep)  # the role
    assert reverse("teams:list") in menu(reverse("home"))
    current = re.compile(r'<a href="([^"]+)" aria-current="page"')
    assert current.findall(menu(reverse("home"))) == [reverse("home")]  # the page
    assert current.findall(menu(reverse("customers:list"))) == [reverse("customers:list")]
    assert ">Customers<" in menu(reverse("home"), "en") and ">客户<" in menu(reverse("home"), "zh-hans")  # the language


def test_it_switches_the_language_without_javascript(client, rep, team):
    client.force_login(rep)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert 'lang="en"' in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("home")})
    assert 'lang="zh-hans"' in client.get(reverse("home")).content.decode()


# --- password change ------------------------------------------------------------------------


def test_it_changes_the_password_and_keeps_the_user_logged_in(client_as, rep):
    client = client_as(rep)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "A-new-one-2026!", "new_password2": "A-new-one-2026!"},
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    assert client.get(reverse("password_change_done")).status_code == 200
    assert client.get(reverse("home")).status_code == 200
    rep.refresh_from_db()
    assert rep.check_password("A-new-one-2026!")


def test_it_shows_password_errors_next_to_the_field_in_the_users_language(client_as, rep):
    client = client_as(rep)
    data = {"old_password": "wrong", "new_password1": "A-new-one-2026!", "new_password2": "A-new-one-2026!"}
    body = client.post(reverse("password_change"), data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="id_old_password_error"' in body and "incorrectly" in body
    body = client.post(reverse("password_change"), data, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "旧密码" in body  # Django's own Chinese message


def test_it_needs_a_login_for_the_password_change(client, db):
    assert client.get(reverse("password_change")).status_code == 302


# --- the idle timeout -------------------------------------------------------------------------


def test_it_renews_the_session_while_the_user_works_but_not_on_every_request(
    client_as, rep, team, monkeypatch, django_assert_num_queries
):
    client = client_as(rep)
    assert RENEWED_AT in client.session  # stamped at login: the next requests write nothing
    response = client.get(reverse("password_change"))
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    later = time.time() + settings.SESSION_IDLE_RENEW_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get(reverse("password_change"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE  # a fresh idle timeout from now
    assert client.session[RENEWED_AT] == int(later)


def test_it_ends_an_idle_session(client_as, rep, team):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = client_as(rep)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=timezone.now())
    assert client.get(reverse("home")).status_code == 302


def test_it_documents_the_idle_timeout_setting():
    assert 60 <= settings.SESSION_IDLE_RENEW_SECONDS * 10 <= settings.SESSION_COOKIE_AGE
    assert not getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False)


# --- lockout (django-axes) ---------------------------------------------------------------------


def test_it_locks_a_user_name_out_after_repeated_failures(client, rep, axes_on):
    fail_login(client, "rep", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post(LOGIN, {"username": "rep", "password": "wrong"}).status_code == 429
    response = client.post(LOGIN, {"username": "rep", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    body = response.content.decode()
    assert 'id="lockout-message"' in body
    assert f"blocked for {settings.AXES_COOLOFF_MINUTES} minutes" in body
    assert "_auth_user_id" not in client.session


def test_it_shows_the_lockout_in_chinese(client, rep, axes_on):
    fail_login(client, "rep", settings.AXES_FAILURE_LIMIT)
    response = client.post(LOGIN, {"username": "rep", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_it_locks_out_the_user_name_and_address_pair_only(client, rep, other_rep, axes_on):
    fail_login(client, "rep", settings.AXES_FAILURE_LIMIT)
    assert client.post(LOGIN, {"username": "other_rep", "password": PASSWORD}).status_code == 302
    elsewhere = client.post(LOGIN, {"username": "rep", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 302


def test_it_forgets_failures_after_a_successful_login(client, rep, axes_on):
    fail_login(client, "rep", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post(LOGIN, {"username": "rep", "password": PASSWORD}).status_code == 302
    client.post(reverse("logout"))
    fail_login(client, "rep", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post(LOGIN, {"username": "rep", "password": PASSWORD}).status_code == 302


def test_it_locks_the_admin_login_too(client, admin, axes_on):
    url = reverse("admin:login")
    fail_login(client, "admin", settings.AXES_FAILURE_LIMIT, url=url)
    response = client.post(url, {"username": "admin", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429 and 'id="lockout-message"' in response.content.decode()


def test_it_refuses_the_api_token_of_a_locked_out_user_name_even_with_the_right_password(api_client, rep, axes_on):
    url = "/api/auth/token/"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post(url, {"username": "rep", "password": "wrong"}, format="json")
    response = api_client.post(url, {"username": "rep", "password": PASSWORD}, format="json")
    assert response.status_code == 400 and "token" not in response.json()


@pytest.mark.parametrize("limit", [3])
def test_it_reads_the_failure_limit_from_the_settings(client, rep, axes_on, settings, limit):
    settings.AXES_FAILURE_LIMIT = limit
    fail_login(client, "rep", limit - 1)
    assert client.post(LOGIN, {"username": "rep", "password": "wrong"}).status_code == 429
