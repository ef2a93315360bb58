"""The team in real Chromium, in Chinese and in English: an editor imports channels and
watches the feed of recent scans; a viewer sees no button that would change anything and
gets 403 on a forged form; an admin manages the users. Every new page is shot at
1440×900 and 390×844 into test-output/ and checked with axe-core (no serious or critical
violation) and for sideways scrolling on the phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.dashboard_browser import ARGS, CHROMIUM, DESKTOP, HEADERS, OUTPUT, check_page
from tests.support.stack import Stack, openids
from wxqr.service.dashboard_users import Role

PASSWORD = "correct horse battery"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

WORDS = {
    "zh_CN": {"created": "已创建", "forbidden": "只读成员", "added": "已添加用户"},
    "en": {"created": "created", "forbidden": "viewer", "added": "added"},
}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_team_at_work(stack: Stack, lang: str) -> None:
    from playwright.sync_api import sync_playwright

    words = WORDS[lang]
    team = stack.ws.dashboard_users
    team.add("boss", PASSWORD, role=Role.ADMIN)
    team.add("editor", PASSWORD, role=Role.EDITOR)
    team.add("viewer", PASSWORD, role=Role.VIEWER)
    csv_file = OUTPUT / f"import-{lang}.csv"
    OUTPUT.mkdir(exist_ok=True)
    csv_file.write_text("name,group\n门店 A Shop,门店\n门店 B Shop,门店\n", encoding="utf-8")
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:

            def log_in(name: str) -> Any:
                context = browser.new_context(
                    viewport=DESKTOP,
                    locale=lang.replace("_", "-"),
                    extra_http_headers={"Accept-Language": HEADERS[lang]},
                    bypass_csp=True,  # only so the test can inject axe-core
                )
                page = context.new_page()
                page.goto(stack.base_url + "/dashboard/login")
                page.fill("#name", name)
                page.fill("#password", PASSWORD)
                page.click("#login")
                page.wait_for_selector("#who")
                return page

            # The editor imports two channels and sees a report per row.
            page = log_in("editor")
            page.goto(stack.base_url + "/dashboard/import")
            check_page(page, f"{lang}-import", problems)
            page.set_input_files("#import-file", str(csv_file))
            page.click("#import")
            page.wait_for_selector("#import-report")
            report = page.inner_text("#import-report")
            assert report.count(words["created"]) == 2
            check_page(page, f"{lang}-import-report", problems)

            # The feed: a scan shows up without a reload.
            page.goto(stack.base_url + "/dashboard/scans")
            shop = stack.ws.channels.find(stack.account.id, "门店 A Shop")
            code = stack.ws.codes.current_code(shop.id)
            assert code is not None
            assert code.ticket is not None
            stack.emulator.scan(openids(1)[0], ticket=code.ticket)
            page.wait_for_selector("#scan-feed tbody tr[data-id]", timeout=15_000)
            assert "门店 A Shop" in page.inner_text("#scan-feed")
            check_page(page, f"{lang}-scans", problems)

            # A reply of its own for the shop's scene, with its preview.
            page.goto(  # the page of the scene's reply, from the channel's edit page
                f"{stack.base_url}/dashboard/channels/{shop.id}/edit"
            )
            page.click(f"[data-scene='{code.scene}']")
            page.select_option("#reply-type", "text")
            page.fill("#reply-text", "门店 A 欢迎你 {scene}")
            page.click("#save-scene-reply")
            page.wait_for_selector(".notice")
            assert f"门店 A 欢迎你 {code.scene}" in page.inner_text("#scene-reply-preview")
            check_page(page, f"{lang}-scene-reply", problems)

            # The viewer: no button that changes anything; a forged form gets 403.
            page = log_in("viewer")
            page.goto(f"{stack.base_url}/dashboard/channels/{shop.id}")
            assert page.locator("#issue").count() == 0
            page.click("#edit")
            page.wait_for_selector("#read-only")
            assert page.locator("#save").count() == 0
            assert page.locator("#archive").count() == 0
            check_page(page, f"{lang}-viewer-channel-edit", problems)
            html = page.content()
            csrf = re.search(r'name="csrf" value="([^"]+)"', html)
            assert csrf is not None
            forged = page.request.post(
                f"{stack.base_url}/dashboard/channels/{shop.id}/edit",
                form={"csrf": csrf[1], "action": "archive"},
            )
            assert forged.status == 403
            refused = page.goto(stack.base_url + "/dashboard/settings")
            assert refused.status == 403
            assert words["forbidden"] in page.inner_text("main")
            check_page(page, f"{lang}-forbidden", problems)
            assert not stack.ws.channels.get(shop.id).archived

            # The admin adds a user on the users page.
            page = log_in("boss")
            page.goto(stack.base_url + "/dashboard/users")
            page.fill("#new-user-name", f"new-{lang}")
            page.fill("#new-user-password", PASSWORD)
            page.select_option("#new-user-role", "editor")
            page.click("#add-user")
            page.wait_for_selector(f"[data-user='new-{lang.lower()}']")
            assert words["added"] in page.inner_text(".notice")
            check_page(page, f"{lang}-users", problems)
            assert team.get(f"new-{lang}").role is Role.EDITOR
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
