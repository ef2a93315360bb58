"""The stats' pseudo-scope ``sessions``: scans and follows through scan sessions, by
purpose, in no channel, in the account's totals (docs/metrics.md)."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Stack, openids


def _metrics(items: list[dict[str, Any]], purpose: str) -> dict[str, int]:
    (found,) = [item["metrics"] for item in items if item["purpose"] == purpose]
    return {k: found[k] for k in ("scans", "unique_scanners", "new_followers", "net_followers")}


def test_session_follows_count_in_the_sessions_scope_and_the_account(stack: Stack) -> None:
    newcomer, regular = openids(2)
    with stack.client() as client:
        channel = client.post(
            "/api/v1/channels",
            json={"name": f"poster-{newcomer}", "code": {"kind": "temporary"}},
        ).json()
        before = client.get("/api/v1/stats/summary").json()["metrics"]
        stack.emulator.scan(regular, ticket=channel["code"]["ticket"])  # follows by a channel
        login = client.post("/api/v1/scan-sessions", json={"purpose": "login"}).json()
        bind = client.post(
            "/api/v1/scan-sessions", json={"purpose": "bind", "ref": "member-1"}
        ).json()
        stack.emulator.scan(newcomer, ticket=login["ticket"])  # a new follower by a session
        stack.emulator.scan(regular, ticket=bind["ticket"])  # an existing follower: SCAN
        stack.emulator.scan(newcomer, ticket=login["ticket"])  # scanned again: a scan
        sessions = client.get("/api/v1/stats/sessions").json()["items"]
        after = client.get("/api/v1/stats/summary").json()["metrics"]
        channels = client.get("/api/v1/stats/channels").json()["items"]

    assert _metrics(sessions, "login") == {
        "scans": 2,
        "unique_scanners": 1,
        "new_followers": 1,
        "net_followers": 1,
    }
    assert _metrics(sessions, "bind") == {
        "scans": 1,
        "unique_scanners": 1,
        "new_followers": 0,
        "net_followers": 0,
    }
    # The account's totals: the channel's scan and follow, and the sessions'.
    assert after["scans"] - before["scans"] == 1 + 3
    assert after["new_followers"] - before["new_followers"] == 2
    # No channel counts a session's scans.
    (poster,) = [c for c in channels if c["channel_id"] == channel["id"]]
    assert poster["metrics"]["scans"] == 1
