"""The poster editor in headless Chromium: typing a number redraws the live preview (the
page's JavaScript posts the draft under its Content-Security-Policy); screenshot of the
editor in test-output/dashboard-poster-editor.png (docs/posters.md)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.artwork import campaign_artwork, sample_layout
from tests.support.stack import Stack

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
OUTPUT = Path(__file__).resolve().parents[3] / "test-output"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


def _source(page: object, selector: str) -> str:
    return str(page.eval_on_selector(selector, "img => img.src"))  # type: ignore[attr-defined]


def test_the_preview_follows_the_form(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    stack.ws.admin.set_password("correct horse battery")
    made = stack.ws.posters.add_template(
        stack.account.id, "Spring", campaign_artwork(), sample_layout()
    )
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(stack.base_url + "/dashboard/login")
            page.fill("#password", "correct horse battery")
            page.click("#login")
            page.wait_for_selector(".kpis")
            page.goto(f"{stack.base_url}/dashboard/posters/{made.id}")
            page.wait_for_selector("#poster-preview")
            first = _source(page, "#poster-preview")
            assert first.endswith(f"/dashboard/posters/{made.id}/preview")

            page.fill("input[name=code_size]", "1200")
            deadline = time.monotonic() + 15
            while not _source(page, "#poster-preview").startswith("data:image/jpeg"):
                assert time.monotonic() < deadline, "the preview was never redrawn"
                page.wait_for_timeout(100)

            page.fill("input[name=code_size]", "60")  # too small to scan: the reason shown
            page.wait_for_selector("#preview-error:not([hidden])", timeout=15_000)
            assert "per module" in page.inner_text("#preview-error")
            page.fill("input[name=code_size]", "900")
            page.wait_for_selector("#preview-error", state="hidden", timeout=15_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUTPUT / "dashboard-poster-editor.png"), full_page=False)
            assert not [e for e in errors if "Content Security Policy" in e]
        finally:
            browser.close()
    # Nothing was saved by the previews.
    assert stack.ws.posters.get_template(made.id).layout.code.size == 900
