"""Screenshots of the main pages, at 1440 px and 360 px wide, for the README.

Run against a server with the demo data (``python manage.py seed_demo``), e.g. on a scratch
SQLite database:

    export DATABASE_URL=sqlite:////tmp/jihui-shots.sqlite3
    python manage.py migrate && python manage.py seed_demo --password demo-pass-1
    python manage.py runserver 127.0.0.1:8765 &
    python docs/screenshots/make_screenshots.py --base-url http://127.0.0.1:8765 --password demo-pass-1

Drives Debian's Chromium through Playwright (``apt-get install chromium``; set CHROMIUM_PATH
elsewhere). Saves ``<page>-<width>.png`` next to this script. Pages another branch has not
built yet (the board, the opportunity page, the reports) are skipped with a note.
"""

import argparse
import os
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {1440: 900, 360: 780}

# (file name, user or None for anonymous, path, language)
SHOTS = [
    ("login", None, "/accounts/login/", "zh-hans"),
    ("home-rep", "rep1", "/", "zh-hans"),
    ("home-manager", "manager", "/", "zh-hans"),
    ("home-manager-en", "manager", "/", "en"),
    ("opportunities", "manager", "/opportunities/?status=open&sort=close", "zh-hans"),
    ("opportunities-pool", "manager", "/opportunities/?status=open&unassigned=true", "zh-hans"),
    ("opportunities-rep-en", "rep1", "/opportunities/?stale=true", "en"),
    ("opportunity-new", "manager", "/opportunities/new/", "zh-hans"),
    ("customers", "manager", "/customers/", "zh-hans"),
    ("customer", "manager", "customer", "zh-hans"),
    ("team", "manager", "team", "zh-hans"),
    ("team-handover", "manager", "handover", "zh-hans"),
    ("board", "rep1", "/opportunities/board/", "zh-hans"),
    ("opportunity", "rep1", "opportunity", "zh-hans"),
    ("reports", "manager", "/reports/", "zh-hans"),
]


def log_in(context, base_url: str, username: str, password: str) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*accounts/login).*$"))
    page.close()


def resolve(page, base_url: str, path: str) -> str | None:
    """Turn the symbolic paths into real ones by following links on the pages."""
    if path.startswith("/"):
        return base_url + path
    if path == "customer":
        page.goto(f"{base_url}/customers/")
        return base_url + page.locator("#customer-table tbody a").first.get_attribute("href")
    if path in ("team", "handover"):
        page.goto(f"{base_url}/teams/")
        team_url = page.url
        if path == "team":
            return team_url
        page.select_option("#id_from_user", index=1)
        page.select_option("#id_to_user", index=2)
        page.click("#handover button[type=submit]")
        page.wait_for_selector("#handover-preview")
        return page.url
    if path == "opportunity":
        page.goto(f"{base_url}/opportunities/?status=open&sort=-activity")
        link = page.locator("#opportunity-table tbody td.title-cell a").first
        return base_url + link.get_attribute("href") if link.count() else None
    raise ValueError(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--password", required=True, help="the demo users' password (seed_demo --password)")
    parser.add_argument("--only", help="comma-separated shot names")
    options = parser.parse_args()
    base_url = options.base_url.rstrip("/")
    only = set(options.only.split(",")) if options.only else None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        contexts = {}
        for name, username, path, language in SHOTS:
            if only and name not in only:
                continue
            for width, height in WIDTHS.items():
                key = (username, language, width)
                if key not in contexts:
                    context = browser.new_context(
                        viewport={"width": width, "height": height}, device_scale_factor=1, locale=language
                    )
                    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
                    if username:
                        log_in(context, base_url, username, options.password)
                    contexts[key] = context
                page = contexts[key].new_page()
                url = resolve(page, base_url, path)
                response = page.goto(url) if url and url != page.url else None
                status = response.status if response else 200
                if url is None or status >= 400:
                    print(f"skipped {name}: {path} answered {status if url else 'nothing'}")
                    page.close()
                    break
                page.wait_for_load_state("networkidle")
                target = HERE / f"{name}-{width}.png"
                page.screenshot(path=str(target), full_page=False)
                print(f"{target.relative_to(HERE.parent.parent)}  {target.stat().st_size // 1024} KB")
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
