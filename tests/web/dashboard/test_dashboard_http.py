"""The dashboard over HTTP: login required, signed session cookie, CSRF, no CDN, exports."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.stack import Stack

PASSWORD = "correct horse battery"


@pytest.fixture
def browser_like(stack: Stack) -> httpx.Client:
    stack.ws.admin.set_password(PASSWORD)
    return httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30)


def _login(client: httpx.Client) -> None:
    response = client.post("/dashboard/login", data={"password": PASSWORD, "next": "/dashboard/"})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


def test_pages_need_a_login(browser_like: httpx.Client) -> None:
    with browser_like as client:
        assert client.get("/").headers["location"] == "/dashboard/"
        for path in ("/dashboard/", "/dashboard/channels/new", "/dashboard/channels/1"):
            response = client.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/dashboard/login?next=")
        assert client.get("/dashboard/channels/1/code.png").status_code == 401
        assert client.get("/dashboard/export").status_code == 303
        login_page = client.get("/dashboard/login")
        assert login_page.status_code == 200
        assert 'type="password"' in login_page.text

        wrong = client.post("/dashboard/login", data={"password": "guess"})
        assert wrong.status_code == 401
        assert "not right" in wrong.text
        assert "set-cookie" not in wrong.headers
        client.cookies.set("wxqr_session", "forged.token")
        assert client.get("/dashboard/").status_code == 303
        client.cookies.clear()


def test_login_then_pages_and_exports(stack: Stack, browser_like: httpx.Client) -> None:
    with stack.client() as api:
        channel = api.post("/api/v1/channels", json={"name": "Poster A", "code": {}}).json()
    with browser_like as client:
        _login(client)
        listing = client.get("/dashboard/channels")
        assert listing.status_code == 200
        assert "Poster A" in listing.text
        csp = listing.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        # Everything the pages load comes from wxqr itself (no CDN).
        for page in (listing, client.get(f"/dashboard/channels/{channel['id']}")):
            sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert sources
            assert all(s.startswith(("/", "#", "data:")) for s in sources), sources
        detail = client.get(f"/dashboard/channels/{channel['id']}")
        assert 'id="series-chart"' in detail.text
        assert "/static/vendor/chart.umd.min.js" in detail.text
        image = client.get(f"/dashboard/channels/{channel['id']}/code.svg")
        assert image.headers["content-type"] == "image/svg+xml"

        exported = client.get("/dashboard/export", params={"table": "channels", "format": "csv"})
        assert exported.headers["content-type"].startswith("text/csv")
        assert "Poster A" in exported.text
        workbook = client.get(
            "/dashboard/export",
            params={"table": "series", "format": "xlsx", "channel_id": channel["id"]},
        )
        assert workbook.content.startswith(b"PK")

        token = re.search(r'name="csrf" value="([^"]+)"', listing.text)
        assert token is not None
        assert client.post("/dashboard/logout", data={"csrf": token[1]}).status_code == 303
        assert client.get("/dashboard/").status_code == 303


def _session_and_csrf(client: httpx.Client) -> tuple[str, str]:
    _login(client)
    cookie = client.cookies["wxqr_session"]
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard/").text)
    assert token is not None
    return cookie, token[1]


def test_logout_revokes_the_session_for_good(browser_like: httpx.Client) -> None:
    with browser_like as client:
        cookie, csrf = _session_and_csrf(client)
        out = client.post("/dashboard/logout", data={"csrf": csrf})
        assert out.status_code == 303
        assert out.headers["location"] == "/dashboard/login"
        # A copy of the old cookie (kept by an attacker, or a shared computer) is dead.
        client.cookies.set("wxqr_session", cookie)
        assert client.get("/dashboard/").status_code == 303
        assert client.get("/dashboard/channels/1/code.png").status_code == 401


def test_logout_needs_the_csrf_token(browser_like: httpx.Client) -> None:
    with browser_like as client:
        _cookie, csrf = _session_and_csrf(client)
        for form in ({}, {"csrf": "forged"}, {"csrf": "☃"}):
            refused = client.post("/dashboard/logout", data=form)
            assert refused.status_code == 403, form
            assert client.get("/dashboard/").status_code == 200  # still logged in
        assert client.post("/dashboard/logout", data={"csrf": csrf}).status_code == 303


def test_each_login_gets_a_different_session(stack: Stack, browser_like: httpx.Client) -> None:
    cookies = []
    for _ in range(6):
        with httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30) as client:
            _login(client)
            cookies.append(client.cookies["wxqr_session"])
    assert len(set(cookies)) == 6
    with browser_like as client:  # logging one out leaves the others logged in
        client.cookies.set("wxqr_session", cookies[0])
        page = client.get("/dashboard/")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        client.post("/dashboard/logout", data={"csrf": token[1]})
        for n, cookie in enumerate(cookies):
            client.cookies.set("wxqr_session", cookie)
            assert client.get("/dashboard/").status_code == (303 if n == 0 else 200)


def test_forms_need_the_session_token(stack: Stack, browser_like: httpx.Client) -> None:
    with browser_like as client:
        _login(client)
        refused = client.post("/dashboard/channels", data={"name": "Sneaky", "csrf": "bad"})
        assert refused.status_code == 403
        page = client.get("/dashboard/channels/new")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        made = client.post(
            "/dashboard/channels",
            data={"name": "Shop", "kind": "temporary", "expire_days": "7", "csrf": token[1]},
        )
        assert made.status_code == 303
        bad = client.post(
            "/dashboard/channels", data={"name": "Shop", "csrf": token[1], "kind": "permanent"}
        )
        assert bad.status_code == 409  # the name is taken: Conflict, as in the REST API
        assert "already exists" in bad.text
    names = [c.name for c in stack.ws.channels.list_channels(stack.account.id)]
    assert names == ["Shop"]


def test_static_files(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url) as client:
        css = client.get("/static/dashboard.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        chart = client.get("/static/vendor/chart.umd.min.js")
        assert chart.status_code == 200, "run the build (pip install -e .) to fetch Chart.js"
        assert chart.headers["content-type"].startswith("text/javascript")
        assert b"Chart" in chart.content
        for escape in ("/static/..%2F..%2Fsettings.py", "/static/%2e%2e/app.py", "/static/nope"):
            assert client.get(escape).status_code == 404


def test_repeated_wrong_passwords_lock_the_client_out(browser_like: httpx.Client) -> None:
    with browser_like as client:
        for _ in range(5):  # WXQR_LOGIN_MAX_FAILURES' default
            assert client.post("/dashboard/login", data={"password": "guess"}).status_code == 401
        # Now even the right password is refused, without being checked.
        refused = client.post("/dashboard/login", data={"password": PASSWORD})
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 900
        assert "Too many failed attempts" in refused.text
        assert "set-cookie" not in refused.headers
        assert client.get("/dashboard/").status_code == 303  # still not logged in


def test_concurrent_guesses_get_no_more_tries_than_sequential_ones(
    stack: Stack, browser_like: httpx.Client
) -> None:
    def guess(n: int) -> int:
        with httpx.Client(base_url=stack.base_url, timeout=30) as client:
            return client.post("/dashboard/login", data={"password": f"guess-{n}"}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(20)))
    # Each attempt counts when it starts, not when its (slow, scrypt) check ends; beyond
    # the two checks running at once, a guess is turned away (503) before any check.
    assert statuses.count(401) <= 5
    assert set(statuses) <= {401, 429, 503}
    for n in range(20):  # however the flood went, the sixth checked guess is refused
        status = guess(100 + n)
        assert status in {401, 429}
        if status == 429:
            break
    else:
        raise AssertionError("the client was never locked out")


def test_logins_beyond_the_running_checks_are_turned_away_at_once(
    stack: Stack, browser_like: httpx.Client
) -> None:
    gate = stack.ws.login_gate
    held = [gate.try_enter() for _ in range(gate.limit)]  # as if checks were running
    assert all(held)
    with browser_like as client:
        try:
            for _ in range(10):
                busy = client.post("/dashboard/login", data={"password": PASSWORD})
                assert busy.status_code == 503
                assert busy.headers["retry-after"] == "1"
                assert "busy" in busy.text
                assert "set-cookie" not in busy.headers
        finally:
            for _ in held:
                gate.leave()
        _login(client)  # none was counted as a failure: the right password still works
