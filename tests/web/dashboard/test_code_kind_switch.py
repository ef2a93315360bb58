"""Issuing a code from a channel page: the kind defaults to the channel's current one, and
replacing a (maybe printed) permanent code by a temporary one is asked again first."""

from __future__ import annotations

import re

import httpx

from tests.support.stack import Stack

PASSWORD = "correct horse battery"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def test_permanent_to_temporary_needs_a_confirmation(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with stack.client() as api:
        made = api.post("/api/v1/channels", json={"name": "Printed", "code": {}})
        made.raise_for_status()
        channel_id = made.json()["id"]
    first = stack.ws.codes.current_code(channel_id)
    assert first is not None
    assert first.kind.value == "permanent"
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        page = client.get(f"/dashboard/channels/{channel_id}")
        assert re.search(r'<option value="permanent"\s+selected>', page.text)
        csrf = _csrf(page.text)

        asked = client.post(
            f"/dashboard/channels/{channel_id}/codes", data={"csrf": csrf, "kind": "temporary"}
        )
        assert asked.status_code == 409
        assert 'id="confirm-switch"' in asked.text
        assert 'name="confirm" value="1"' in asked.text
        unchanged = stack.ws.codes.current_code(channel_id)
        assert unchanged is not None
        assert unchanged.id == first.id

        confirmed = client.post(
            f"/dashboard/channels/{channel_id}/codes",
            data={"csrf": csrf, "kind": "temporary", "confirm": "1"},
            follow_redirects=False,
        )
        assert confirmed.status_code == 303
        now = stack.ws.codes.current_code(channel_id)
        assert now is not None
        assert now.kind.value == "temporary"

        # From temporary, another temporary needs no question; the form now defaults to it.
        page = client.get(f"/dashboard/channels/{channel_id}")
        assert re.search(r'<option value="temporary"\s+selected>', page.text)
        again = client.post(
            f"/dashboard/channels/{channel_id}/codes",
            data={"csrf": csrf, "kind": "temporary"},
            follow_redirects=False,
        )
        assert again.status_code == 303
