"""The language switcher in a real browser (it needs no JavaScript: each language is a button)."""

from playwright.sync_api import expect


def test_it_switches_the_ui_to_chinese_and_back(login, rep, team, live_server):
    page = login(rep, language="en")
    nav = page.locator("nav.mainnav")
    expect(nav).to_contain_text("Opportunities")
    page.click(".lang-switch button[value=zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(nav).to_contain_text("销售机会")
    expect(nav).to_contain_text("客户")
    expect(page.locator("h1")).to_contain_text("欢迎")
    page.click(".lang-switch button[value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav).to_contain_text("Customers")


def test_it_switches_the_language_with_javascript_off(browser, rep, team, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.click(".lang-switch button[value=zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("登录")
    context.close()
