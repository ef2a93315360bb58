"""examples/scan_login in real headless Chromium: the page shows the code, the emulator
scans it, and the page says "signed in as …" within 2 s, with no reload."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from examples.scan_login.app import create_app

from tests.support.stack import Stack, openids
from wxqr.emulator.testing import serve_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


def test_the_login_page_signs_in_the_scanner_without_a_reload(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    (visitor,) = openids(1)
    with (
        serve_app(create_app(stack.base_url, stack.api_key)) as example_url,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            navigations: list[str] = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url))
            page.goto(example_url + "/")
            image = page.wait_for_selector("#code")
            assert image is not None
            deadline = time.monotonic() + 10
            while image.evaluate("img => img.naturalWidth") == 0:
                assert time.monotonic() < deadline, "the code's image never loaded"
                page.wait_for_timeout(50)
            src = image.get_attribute("src")
            assert src is not None
            (ticket,) = parse_qs(urlparse(src).query)["ticket"]
            page.wait_for_timeout(300)  # the page's event stream is open

            scanned = stack.emulator.scan(visitor, ticket=ticket)
            assert scanned.pushes[0].delivered
            page.wait_for_selector(".signed-in", timeout=2_000)
            assert page.inner_text("#state") == f"signed in as {visitor}"
            assert len(navigations) == 1  # no reload
        finally:
            browser.close()
