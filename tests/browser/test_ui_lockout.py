"""The lockout after repeated failed logins, as a person sees it."""

from django.conf import settings
from playwright.sync_api import expect


def test_it_shows_a_clear_lockout_message(page, rep, axes_on, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.fill("#id_username", "rep")
        page.fill("#id_password", "not-the-password")
        page.click("button[type=submit]")
        if page.locator("#lockout-message").count():
            break
    expect(page.locator("#lockout-message")).to_contain_text("Too many failed logins")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "rep")
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    expect(page.locator("#lockout-message")).to_be_visible()  # even the right password, for now
