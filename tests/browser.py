"""The one Chromium fixture of the browser tests (console and diary): Debian's Chromium driven by Playwright for Python.

Module-scoped on purpose: Playwright's sync API keeps an event loop running in the test process while it is open, and
a second `sync_playwright()` in the same process refuses to start ("Sync API inside the asyncio loop"). pytest tears a
module's fixtures down before the next module's are set up, so two browser modules on one xdist worker never overlap.
Off CI a missing Chromium or Playwright skips with the reason; under CI=true it fails.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import unavailable

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
