"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Install the browser with ``apt-get install -y chromium`` (bin/test does it when it may); its
own download (``playwright install``) does not work on our machines. Every test here is marked
``browser``; ``pytest -m "not browser"`` leaves them out.
"""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to run
# "inside" it. The tests are not async code, so tell Django so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's password


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)
            if not shutil.which(CHROMIUM):
                item.add_marker(pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def login(page, live_server):
    """``login(user)``: sign ``user`` in through the real login form; returns the page."""

    def sign_in(user, *, language: str = "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/**")
        assert "/accounts/login/" not in page.url, "login failed"
        return page

    return sign_in
