"""``/api/v1/docs`` is framed by nobody and runs only wxqr's own scripts (issue 14, item
15); Swagger UI still works under that policy, in real headless Chromium when installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.stack import Stack

CHROMIUM = Path("/usr/bin/chromium")


def _policy(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_the_docs_page_has_a_strict_policy(stack: Stack) -> None:
    with stack.client(key=None) as client:
        response = client.get("/api/v1/docs")
    assert response.status_code == 200
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    policy = _policy(headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    # No inline script: every <script> loads a file (the policy would block any other).
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
    assert scripts
    assert all('src="/' in attrs and not body.strip() for attrs, body in scripts), scripts
    assert "on" + "load=" not in response.text.lower()


def test_the_init_script_is_served_as_javascript(stack: Stack) -> None:
    with stack.client(key=None) as client:
        page = client.get("/api/v1/docs").text
        (init,) = [s for s in re.findall(r'src="([^"]+)"', page) if "init" in s]
        script = client.get(init)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in script.text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_swagger_ui_renders_under_the_policy(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(stack.base_url + "/api/v1/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
            assert "wxqr" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock-summary-path", timeout=20_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/api/v1/channels" in path for path in paths), paths
            page.locator(".opblock-summary").first.click()  # open one: its parameters render
            page.wait_for_selector(".opblock-body", timeout=20_000)
            page.locator(".models-control, .models h4").first.click()  # and the schemas
        finally:
            browser.close()
    violations = [text for text in console if "Content Security Policy" in text]
    assert not violations, violations
