"""Screenshots of the Kanban board and an opportunity page, at 1440 and 360 px wide.

Run against a server with demo data, e.g.::

    export DATABASE_URL=sqlite:////tmp/board.sqlite3 JIHUI_VAR_DIR=/tmp/board-var
    python manage.py migrate && python manage.py seed_demo --password x
    python manage.py runserver 127.0.0.1:8765 &
    python docs/screenshots/board_screenshots.py http://127.0.0.1:8765 --password x

Writes board-1440.png, board-360.png, opportunity-1440.png and opportunity-360.png next to this
file. Uses Debian's Chromium (``CHROMIUM_PATH``, default /usr/bin/chromium) through Playwright;
Chinese text needs a CJK font on the machine (``apt-get install fonts-wqy-microhei``).
"""

import argparse
import os
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
WIDTHS = {"1440": {"width": 1440, "height": 900}, "360": {"width": 360, "height": 780}}
MAX_HEIGHT = {"1440": 1800, "360": 2200}


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/(?!accounts/login)"))


def pick_opportunity(page, base: str) -> str:
    """A deal with a long history: the board's card in the sample stage or later, else the first."""
    page.goto(f"{base}/opportunities/board/")
    page.wait_for_load_state("networkidle")
    columns = page.locator(".board-column")
    for index in range(columns.count() - 1, -1, -1):
        link = columns.nth(index).locator(".opp-card-title").first
        if link.count():
            return link.get_attribute("href")
    raise SystemExit("no opportunity on the board: load the demo data first")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--username", default="rep1")
    parser.add_argument("--password", default="x")
    parser.add_argument("--language", default="zh-hans")
    options = parser.parse_args()
    base = options.base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for label, viewport in WIDTHS.items():
            browser_locale = "zh-CN" if options.language.startswith("zh") else options.language
            context = browser.new_context(viewport=viewport, device_scale_factor=1, locale=browser_locale)
            context.add_cookies([{"name": "django_language", "value": options.language, "url": base}])
            page = context.new_page()
            log_in(page, base, options.username, options.password)
            detail = pick_opportunity(page, base)
            page.screenshot(path=HERE / f"board-{label}.png", full_page=label == "1440")
            page.goto(f"{base}{detail}")
            page.wait_for_load_state("networkidle")
            # A phone shows the top of a long page: keep the file small, show what matters.
            height = page.evaluate("document.documentElement.scrollHeight")
            clip = {"x": 0, "y": 0, "width": viewport["width"], "height": min(height, MAX_HEIGHT[label])}
            page.screenshot(path=HERE / f"opportunity-{label}.png", full_page=True, clip=clip)
            context.close()
        browser.close()
    for path in sorted(HERE.glob("*.png")):
        print(f"{path.name}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
