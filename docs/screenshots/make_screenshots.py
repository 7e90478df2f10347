"""Screenshots of the main pages, at 1440 px and 360 px wide, for the README.

Run against a server with the demo data, on a scratch SQLite database:

    export DATABASE_URL=sqlite:////tmp/shots.sqlite3 JIHUI_VAR_DIR=/tmp/shots-var
    python manage.py migrate && python manage.py seed_demo --password demo-pass-1
    python manage.py send_reminders && python manage.py stale_alerts   # the notifications
    python manage.py runserver 127.0.0.1:8765 &     # any free loopback port
    python docs/screenshots/make_screenshots.py --base-url http://127.0.0.1:8765 --password demo-pass-1

Writes ``<name>-<width>.png`` next to this script (``--only board,opportunity`` for some of
them). Tall pages are cut at MAX_HEIGHT so each file stays small. Drives Debian's Chromium
through Playwright (``apt-get install chromium chromium-l10n fonts-wqy-microhei``: a CJK font for
the Chinese, chromium-l10n for the browser's own file and date controls in Chinese; set
CHROMIUM_PATH for another browser).
"""

import argparse
import os
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
VIEWPORTS = {1440: 900, 360: 780}  # width: viewport height
MAX_HEIGHT = {1440: 1050, 360: 2000}
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}  # the app's language: the browser's
SAMPLE_COLUMN = 4  # the main pipeline's 提供样品 (sample) stage: deals from there on have a long history

# (file name, user or None for anonymous, language, path or a name resolve() knows)
SHOTS = [
    ("login", None, "zh-hans", "/accounts/login/"),
    ("home-rep", "rep1", "zh-hans", "/"),
    ("home-manager", "manager", "zh-hans", "/"),
    ("home-manager-en", "manager", "en", "/"),
    ("opportunities-pool", "manager", "zh-hans", "/opportunities/?status=open&unassigned=true"),
    ("opportunities-rep-en", "rep1", "en", "/opportunities/?status=open&sort=close"),
    ("opportunity-new", "manager", "zh-hans", "/opportunities/new/"),
    ("board", "rep1", "zh-hans", "/opportunities/board/"),
    ("opportunity", "rep1", "zh-hans", "opportunity"),
    ("customers", "manager", "zh-hans", "/customers/"),
    ("customer", "manager", "zh-hans", "customer"),
    ("team", "manager", "zh-hans", "team"),
    ("team-handover", "manager", "zh-hans", "handover"),
    ("notifications", "rep1", "zh-hans", "/notifications/"),
    ("import", "manager", "zh-hans", "/opportunities/imports/new/"),
    ("reports", "manager", "zh-hans", "/reports/"),
    ("report-incentives", "manager", "zh-hans", "/reports/incentives/"),
    ("report-sources", "manager", "zh-hans", "/reports/sources/"),
]


def log_in(context, base_url: str, username: str, password: str) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"^{re.escape(base_url)}/(?!accounts/login)"))
    page.close()


def open_page(page, base_url: str, path: str) -> None:
    """Go to the page; the symbolic paths are found by following links, as a user would."""
    if path.startswith("/"):
        response = page.goto(base_url + path)
        if response.status >= 400:
            raise SystemExit(f"{path} answered {response.status}")
    elif path == "opportunity":
        page.goto(f"{base_url}/opportunities/board/")
        columns = page.locator(".board-column")
        for index in range(columns.count() - 1, SAMPLE_COLUMN - 1, -1):
            link = columns.nth(index).locator(".opp-card-title").first
            if link.count():
                return page.goto(base_url + link.get_attribute("href"))
        raise SystemExit("no deal in the sample stage or later: load the demo data first")
    elif path == "customer":
        page.goto(f"{base_url}/customers/")  # the one with the most deals (the last column)
        rows = page.locator("#customer-table tbody tr").all()
        busiest = max(rows, key=lambda row: int(row.locator("td").last.inner_text()))
        page.goto(base_url + busiest.locator("a").first.get_attribute("href"))
    elif path in ("team", "handover"):
        page.goto(f"{base_url}/teams/")  # a manager of one team lands on it
        if path == "handover":
            page.select_option("#id_from_user", index=1)
            page.select_option("#id_to_user", index=2)
            page.click("#handover button[type=submit]")
            page.wait_for_selector("#handover-preview")
    else:
        raise ValueError(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--password", required=True, help="the demo users' password (seed_demo --password)")
    parser.add_argument("--only", help="comma-separated file names, e.g. board,opportunity")
    options = parser.parse_args()
    base_url = options.base_url.rstrip("/")
    only = set(options.only.split(",")) if options.only else None
    with sync_playwright() as playwright:
        browsers, contexts = {}, {}  # a browser per language, a logged-in context per (user, language, width)
        for name, username, language, path in SHOTS:
            if only and name not in only:
                continue
            for width, height in VIEWPORTS.items():
                key = (username, language, width)
                if language not in browsers:  # LANGUAGE: the browser's own controls (file, date) in that language
                    env = {**os.environ, "LANGUAGE": LOCALES[language].replace("-", "_")}
                    browsers[language] = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=env)
                if key not in contexts:
                    contexts[key] = browsers[language].new_context(
                        viewport={"width": width, "height": height}, device_scale_factor=1, locale=LOCALES[language]
                    )
                    contexts[key].add_cookies([{"name": "django_language", "value": language, "url": base_url}])
                    if username:
                        log_in(contexts[key], base_url, username, options.password)
                page = contexts[key].new_page()
                open_page(page, base_url, path)
                page.wait_for_load_state("networkidle")
                if page.locator("canvas").count():
                    page.wait_for_timeout(1500)  # let Chart.js finish its animation
                page.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-page
                full = page.evaluate("document.documentElement.scrollHeight")
                target = HERE / f"{name}-{width}.png"
                clip = {"x": 0, "y": 0, "width": width, "height": min(full, MAX_HEIGHT[width])}
                page.screenshot(path=target, full_page=True, clip=clip)
                print(f"{target.name}  {target.stat().st_size // 1024} KB")
                page.close()
        for browser in browsers.values():
            browser.close()


if __name__ == "__main__":
    main()
