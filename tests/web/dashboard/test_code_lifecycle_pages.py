"""The dashboard side of issue 19: expiring and expired codes are marked on the channel
list and page, the channel page turns auto-renew on, an expired code is downloaded only
when asked explicitly, and the settings page shows WeChat's quotas."""

from __future__ import annotations

import re

import httpx

from tests.support.lifecycle_stack import expire_code
from tests.support.stack import Stack

PASSWORD = "correct horse battery"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def test_expiring_codes_are_marked_and_renewal_is_a_switch(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with stack.client() as api:
        soon = api.post(
            "/api/v1/channels",
            json={"name": "Soon", "code": {"kind": "temporary", "expire_seconds": 86400}},
        ).json()
        later = api.post(
            "/api/v1/channels", json={"name": "Later", "code": {"kind": "temporary"}}
        ).json()
        gone = api.post(
            "/api/v1/channels",
            json={"name": "Gone", "code": {"kind": "temporary", "expire_seconds": 86400}},
        ).json()
    expire_code(stack.ws.engine, gone["code"]["id"])
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        listing = client.get("/dashboard/channels").text
        marks = dict(
            re.findall(r'>(Soon|Later|Gone)</a>.*?class="status ([a-z ]+)"', listing, re.S)
        )
        assert marks == {"Soon": "expiring", "Later": "active", "Gone": "expired"}

        page = client.get(f"/dashboard/channels/{soon['id']}")
        assert 'class="status expiring"' in page.text
        assert "stops working on" in page.text
        assert 'id="auto-renew"' in page.text
        assert 'id="auto-renew" checked' not in page.text
        saved = client.post(
            f"/dashboard/channels/{soon['id']}/renewal",
            data={"csrf": _csrf(page.text), "auto_renew": "1", "lead_time": "36h"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        setting = stack.ws.lifecycle.renewal(soon["id"])
        assert setting.auto_renew
        assert setting.lead_seconds == 36 * 3600
        assert 'id="auto-renew" checked' in client.get(f"/dashboard/channels/{soon['id']}").text
        bad = client.post(
            f"/dashboard/channels/{soon['id']}/renewal",
            data={"csrf": _csrf(page.text), "auto_renew": "1", "lead_time": "soon"},
        )
        assert bad.status_code == 422
        assert "not a duration" in bad.text

        expired_page = client.get(f"/dashboard/channels/{gone['id']}").text
        assert "has expired" in expired_page
        assert "code.png?download=1&amp;force=1" in expired_page
        refused = client.get(f"/dashboard/channels/{gone['id']}/code.png?download=1")
        assert refused.status_code == 409
        forced = client.get(f"/dashboard/channels/{gone['id']}/code.png?download=1&force=1")
        assert forced.status_code == 200
        assert forced.headers["content-type"] == "image/png"
        assert later["code"]["status"] == "active"


def test_the_settings_page_shows_the_quotas(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with stack.client() as api:
        api.post("/api/v1/channels", json={"name": "P", "code": {}}).raise_for_status()
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        page = client.get("/dashboard/settings").text
    assert 'id="quota"' in page
    daily = re.search(r'id="quota-daily">([^<]*)', page)
    assert daily is not None
    assert "of 100,000 used" in daily[1]
    assert re.search(r'id="quota-wxqr">1<', page)
    assert re.search(r'id="quota-permanent">1 of 100,000<', page)
