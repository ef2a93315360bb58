"""The marketer's morning routine in real Chromium, in Chinese and in English: log in, read
the overview, change the range, compare with the previous period, pick a metric, open a
channel, edit its reply, issue a code (confirming the switch from permanent), download
it, create an API key. Every page is shot at 1440×900 and 390×844 into test-output/
(docs/dashboard.md shows them), checked with axe-core (no serious or critical
violation) and, on the phone, for sideways scrolling of the page itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import Stack, openids

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "src" / "wxqr" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "test-output"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

WORDS = {
    "zh_CN": {
        "header": "zh-CN,zh;q=0.9",
        "30d": "近30天",
        "previous": "上一周期",
        "saved": "已保存",
    },
    "en": {
        "header": "en-US,en;q=0.9",
        "30d": "Last 30 days",
        "previous": "previous",
        "saved": "Saved",
    },
}


def _axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))
            }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _check(page: Any, lang: str, name: str, problems: list[str]) -> None:
    """Shoot the page at both sizes, run axe at both, look for sideways scrolling."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(100)  # the charts resize
        page.screenshot(path=str(OUTPUT / f"dashboard-{lang}-{name}-{label}.png"), full_page=True)
        for violation in _axe_violations(page):
            problems.append(f"{lang} {name} {label}: {violation}")
        if label == "phone":
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > size["width"]:
                culprits = page.evaluate(
                    """(limit) => [...document.querySelectorAll("body *")]
                        .filter(e => e.getBoundingClientRect().right > limit)
                        .filter(e => !e.parentElement.closest(".table-wrap"))
                        .slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id)""",
                    size["width"],
                )
                problems.append(
                    f"{lang} {name}: the page is {wide} px wide on a 390 px phone: {culprits}"
                )
    page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_daily_routine(stack: Stack, lang: str) -> None:
    from playwright.sync_api import sync_playwright

    words = WORDS[lang]
    stack.ws.admin.set_password(PASSWORD)
    with stack.client() as api:
        made = api.post(
            "/api/v1/channels", json={"name": "门店海报 Poster", "group": "门店", "code": {}}
        )
        made.raise_for_status()
        channel_id = made.json()["id"]
        api.post("/api/v1/channels", json={"name": "地推 Street", "code": {}}).raise_for_status()
    code = stack.ws.codes.current_code(channel_id)
    assert code is not None
    assert code.ticket is not None
    for user in openids(3):
        stack.emulator.scan(user, ticket=code.ticket)

    OUTPUT.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(
                viewport=DESKTOP,
                locale=lang.replace("_", "-"),
                extra_http_headers={"Accept-Language": words["header"]},
                bypass_csp=True,  # only so the test can inject axe-core
                accept_downloads=True,
            )
            page = context.new_page()
            outside: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(stack.base_url) else outside.append(r.url),
            )
            page.goto(stack.base_url + "/dashboard/")
            page.wait_for_selector("#password")
            _check(page, lang, "login", problems)
            page.fill("#password", PASSWORD)
            page.click("#login")

            # The overview: KPI cards, the range, the comparison, the metric.
            page.wait_for_selector(".kpis")
            page.wait_for_selector("#trend-chart[data-ready='1']")
            assert page.inner_text("[data-metric='scans'] .kpi-value") == "3"
            page.click("[data-range='30d']")
            page.wait_for_url("**range=30d**")
            current = page.inner_text("[aria-current='page']")
            assert current == words["30d"]
            assert words["previous"] in page.inner_text("[data-metric='scans'] .kpi-change")
            page.select_option("#metric", "new_followers")
            page.wait_for_url("**metric=new_followers**")
            page.wait_for_selector("#channels-chart[data-ready='1']")
            assert "门店海报 Poster" in page.inner_text("#top-table")
            _check(page, lang, "overview", problems)

            page.goto(stack.base_url + "/dashboard/channels")
            _check(page, lang, "channels", problems)

            # A channel: its page, its reply edited with a preview, a new code, a download.
            page.click("text=门店海报 Poster")
            page.wait_for_selector("#series-chart[data-ready='1']")
            _check(page, lang, "channel", problems)
            page.click("#edit")
            page.select_option("#reply-type", "text")
            page.fill("#reply-text", "欢迎光临 {scene}")
            page.click("#save")
            page.wait_for_selector(".notice")
            assert words["saved"] in page.inner_text(".notice")
            assert f"欢迎光临 {code.scene}" in page.inner_text("#reply-preview")
            _check(page, lang, "channel-edit", problems)

            page.goto(f"{stack.base_url}/dashboard/channels/{channel_id}")
            page.select_option("#issue-kind", "temporary")
            page.once("dialog", lambda dialog: dialog.accept())
            page.click("#issue")
            page.wait_for_selector("#qr-image")
            issued = stack.ws.codes.current_code(channel_id)
            assert issued is not None
            assert issued.kind.value == "temporary"
            with page.expect_download() as download_info:
                page.click("#download-png")
            downloaded = Path(download_info.value.path())
            assert downloaded.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

            # An API key for the CRM, limited to this account, its secret shown once.
            page.goto(stack.base_url + "/dashboard/settings")
            page.fill("#key-name", f"crm-{lang}")
            page.click("#create-key")
            secret = page.inner_text("#new-key code")
            assert secret.startswith("wxqr_")
            assert stack.ws.api_keys.get(f"crm-{lang}").active
            _check(page, lang, "settings", problems)

            page.goto(stack.base_url + "/dashboard/channels/new")
            _check(page, lang, "new-channel", problems)
            page.goto(stack.base_url + "/dashboard/webhooks")
            _check(page, lang, "webhooks", problems)
            assert outside == []
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
