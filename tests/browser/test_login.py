import re

from playwright.sync_api import expect


def test_it_logs_in_and_shows_the_home_page(login, rep, team, live_server):
    page = login(rep)
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/$"))
    expect(page.locator("header")).to_contain_text("rep")


def test_it_refuses_a_wrong_password_with_a_message(page, rep, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", rep.username)
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_be_visible()
    assert "/accounts/login/" in page.url
