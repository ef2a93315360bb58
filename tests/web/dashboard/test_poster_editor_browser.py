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


def _value(page: object, name: str) -> int:
    return int(page.input_value(f"input[name={name}]"))  # type: ignore[attr-defined]


def _drag(page: object, start: tuple[float, float], by: tuple[float, float]) -> None:
    mouse = page.mouse  # type: ignore[attr-defined]
    mouse.move(*start)
    mouse.down()
    for step in range(1, 6):  # several moves, as a hand makes them
        mouse.move(start[0] + by[0] * step / 5, start[1] + by[1] * step / 5)
    mouse.up()


def test_the_code_and_captions_are_dragged_on_the_preview(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    stack.ws.admin.set_password("correct horse battery")
    made = stack.ws.posters.add_template(
        stack.account.id, "Drag", campaign_artwork(), sample_layout()
    )
    code = made.layout.code
    caption = made.layout.captions[1]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(stack.base_url + "/dashboard/login")
            page.fill("#password", "correct horse battery")
            page.click("#login")
            page.wait_for_selector(".kpis")
            page.goto(f"{stack.base_url}/dashboard/posters/{made.id}")
            page.wait_for_function(
                "document.getElementById('poster-preview').naturalWidth > 0", timeout=15_000
            )
            box = page.locator("#poster-preview").bounding_box()
            assert box is not None
            ratio = made.width / box["width"]  # artwork pixels per screen pixel

            def on_screen(x: float, y: float) -> tuple[float, float]:
                return box["x"] + x / ratio, box["y"] + y / ratio

            centre = on_screen(code.x + code.size / 2, code.y + code.size / 2)
            _drag(page, centre, (60, -40))
            moved_x, moved_y = _value(page, "code_x"), _value(page, "code_y")
            assert abs(moved_x - (code.x + 60 * ratio)) <= 2 * ratio, moved_x
            assert abs(moved_y - (code.y - 40 * ratio)) <= 2 * ratio, moved_y
            assert _value(page, "code_size") == code.size  # a drag moves, never resizes
            deadline = time.monotonic() + 15
            while not _source(page, "#poster-preview").startswith("data:image/jpeg"):
                assert time.monotonic() < deadline, "the preview was never redrawn"
                page.wait_for_timeout(100)

            # The channel-name caption under the code: dragged 30 px up.
            line = on_screen(caption.x + caption.width / 2, caption.y + caption.font_size / 2)
            _drag(page, line, (0, -30))
            assert _value(page, "caption_1_x") == caption.x  # straight up
            dragged_y = _value(page, "caption_1_y")
            assert abs(dragged_y - (caption.y - 30 * ratio)) <= 2 * ratio, dragged_y
            # Off the code and the captions, nothing moves.
            _drag(page, on_screen(20, made.height - 20), (50, -50))
            assert (_value(page, "code_x"), _value(page, "code_y")) == (moved_x, moved_y)

            # The keyboard still works on the numbers the drag wrote.
            page.focus("input[name=code_x]")
            page.keyboard.press("ArrowUp")
            assert _value(page, "code_x") == moved_x + 1
            page.click("#save-layout")
            page.wait_for_selector("p.notice")
        finally:
            browser.close()
    saved = stack.ws.posters.get_template(made.id).layout
    assert (saved.code.x, saved.code.y) == (moved_x + 1, moved_y)
    assert saved.captions[1].y == dragged_y
