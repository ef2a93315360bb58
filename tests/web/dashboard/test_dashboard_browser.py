"""The dashboard in real headless Chromium (Debian's, driven by Playwright; never downloaded):
log in, create a channel, see its QR code and the daily chart; screenshots in test-output/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.qr import decode_png
from tests.support.stack import Stack, openids

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[3] / "test-output"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


def test_login_create_channel_see_code_and_chart(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    stack.ws.admin.set_password("correct horse battery")
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            outside: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(stack.base_url) else outside.append(r.url),
            )
            page.goto(stack.base_url + "/dashboard/")
            page.wait_for_selector("#password")
            page.fill("#password", "correct horse battery")
            page.click("#login")
            page.wait_for_selector(".kpis")

            page.click("text=New channel >> nth=0")
            page.fill("#name", "Browser poster")
            page.fill("#group", "posters")
            page.click("#create")
            image = page.wait_for_selector("#qr-image")
            assert image is not None
            # The dashboard's CSP has no 'unsafe-eval', which wait_for_function needs: poll.
            deadline = time.monotonic() + 10
            while image.evaluate("img => img.naturalWidth") == 0:
                assert time.monotonic() < deadline, "the QR image never loaded"
                page.wait_for_timeout(50)
            channel = stack.ws.channels.find(stack.account.id, "Browser poster")
            code = stack.ws.codes.current_code(channel.id)
            assert code is not None
            assert code.ticket is not None

            for user in openids(3):  # scans through the emulator, then the chart shows them
                stack.emulator.scan(user, ticket=code.ticket)
            page.reload()
            page.wait_for_selector("#series-chart[data-ready='1']", timeout=10_000)
            canvas = page.query_selector("#series-chart")
            assert canvas is not None
            box = canvas.bounding_box()
            assert box is not None
            assert box["width"] > 200
            assert box["height"] > 100
            total = page.inner_text("#series-table tfoot")
            assert total.split()[:4] == ["Total", "3", "3", "3"]

            # The QR code shown on the page is the channel's code, as a phone would read it.
            shot = page.query_selector("#qr-image")
            assert shot is not None
            assert decode_png(shot.screenshot()) == code.url
            page.screenshot(path=str(OUTPUT / "dashboard-channel.png"), full_page=True)
            page.goto(stack.base_url + "/dashboard/channels")
            page.screenshot(path=str(OUTPUT / "dashboard-channels.png"), full_page=True)
            assert "Browser poster" in page.inner_text("#channel-table")
            assert outside == []  # nothing fetched from anywhere but wxqr
        finally:
            browser.close()
    assert (OUTPUT / "dashboard-channel.png").stat().st_size > 10_000
