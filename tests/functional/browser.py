"""What every browser test shares: Debian's Chromium driven by Playwright, the screen
sizes, and signing in through the form like a person.

Off CI a machine without Chromium skips these tests with the reason (``make browser``
installs it); on CI (``CI=true``) a missing browser fails them, so that a green run always
means the browser tests ran.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.common.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls of the fixtures
# are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

HAVE_CHROMIUM = shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_CHROMIUM and os.environ.get("CI") != "true",
        reason="Debian's chromium is not installed (make browser)",
    ),
]


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button.btn-primary")
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.click("form.logout button")
    page.wait_for_url(re.compile(r"/login/"))
