"""Scan sessions end to end: the REST API, the emulator scanning over real HTTP, the
webhook completing sessions (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from sqlalchemy import select

from tests.support import pushes as p
from tests.support.db_helpers import age_session
from tests.support.stack import APPID, TOKEN, Stack, openids
from wxqr.protocol import AccountKeys, EncryptMode, TextReply
from wxqr.service.session_scenes import SESSION_SCENE_PREFIX
from wxqr.store import tables as t


def _create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/scan-sessions", json={"purpose": "login", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _push_scan(stack: Stack, openid: str, scene: str, create_time: int) -> httpx.Response:
    """A SCAN push as WeChat would send it, CreateTime chosen (a late delivery)."""
    keys = AccountKeys(APPID, TOKEN, None, EncryptMode.PLAIN)
    sealed = p.seal(p.scan(openid, scene, create_time), keys)
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        return client.post(f"/wechat/{APPID}", params=sealed.query.to_params(), content=sealed.body)


def test_login_by_a_new_and_by_an_existing_follower(stack: Stack) -> None:
    newcomer, _ = openids(2)
    with stack.client() as client:
        first = _create(client, reply={"type": "text", "content": "登录成功"}, ref="web-1")
        assert first["status"] == "pending"
        assert first["scene"].startswith(SESSION_SCENE_PREFIX)
        assert first["ticket"]
        assert first["url"]
        assert first["image_url"]
        assert first["poll_url"].endswith(first["poll_token"])

        scanned = stack.emulator.scan(newcomer, ticket=first["ticket"])
        assert scanned.outcome == "subscribe"
        assert scanned.reply == TextReply("登录成功")
        got = client.get(f"/api/v1/scan-sessions/{first['id']}").json()
        assert got["status"] == "scanned"
        assert got["openid"] == newcomer
        assert got["followed_now"] is True
        assert got["ref"] == "web-1"
        assert got["scans"] == 1
        assert got["scanned_at"] is not None

        # The same visitor, now a follower, logs in again with a new session: SCAN.
        second = _create(client)
        again = stack.emulator.scan(newcomer, ticket=second["ticket"])
        assert again.outcome == "scan"
        got2 = client.get(f"/api/v1/scan-sessions/{second['id']}").json()
        assert (got2["status"], got2["openid"], got2["followed_now"]) == (
            "scanned",
            newcomer,
            False,
        )

        # A later scan of the first (once) code is recorded but changes nothing.
        stack.emulator.scan(newcomer, ticket=first["ticket"])
        assert client.get(f"/api/v1/scan-sessions/{first['id']}").json() == got

    with stack.ws.engine.connect() as conn:
        rows = conn.execute(
            select(t.events.c.channel_id, t.events.c.orphan).where(
                t.events.c.scene == first["scene"]
            )
        ).all()
    # Session scans are in the event log, in no channel, and no orphans.
    assert len(rows) == 2
    assert all(channel is None and not orphan for channel, orphan in rows)


def test_bind_lists_the_binding_and_removes_it(stack: Stack) -> None:
    (user,) = openids(1)
    with stack.client() as client:
        refused = client.post("/api/v1/scan-sessions", json={"purpose": "bind"})
        assert refused.status_code == 422
        assert refused.json()["field"] == "ref"
        session = _create(client, purpose="bind", ref="member-42")
        stack.emulator.scan(user, ticket=session["ticket"])
        listed = client.get("/api/v1/bindings", params={"ref": "member-42"}).json()["items"]
        assert [(b["ref"], b["openid"], b["session_id"]) for b in listed] == [
            ("member-42", user, session["id"])
        ]
        by_openid = client.get("/api/v1/bindings", params={"openid": user}).json()["items"]
        assert [b["id"] for b in by_openid] == [listed[0]["id"]]
        assert client.delete(f"/api/v1/bindings/{listed[0]['id']}").status_code == 204
        assert client.get("/api/v1/bindings", params={"ref": "member-42"}).json()["items"] == []
        assert client.delete(f"/api/v1/bindings/{listed[0]['id']}").status_code == 404


def test_an_order_code_with_once_false_counts_every_scan(stack: Stack) -> None:
    buyers = openids(3)
    with stack.client() as client:
        order = _create(client, purpose="order", ref="order-1001", once=False, ttl_seconds=3600)
        for buyer in buyers:
            assert stack.emulator.scan(buyer, ticket=order["ticket"]).pushes[0].delivered
        got = client.get(f"/api/v1/scan-sessions/{order['id']}").json()
    assert got["status"] == "scanned"
    assert got["scans"] == 3
    assert got["openid"] == buyers[0]  # the first scan completed it
    assert got["ref"] == "order-1001"


def test_a_late_push_never_completes_a_session_after_its_expiry(stack: Stack) -> None:
    (user,) = openids(1)
    with stack.client() as client:
        session = _create(client, ttl_seconds=60)
        expires_at = _expiry(stack, session["id"])
        # Scanned after the expiry (CreateTime), delivered now: answered, never completing.
        late = _push_scan(stack, user, session["scene"], expires_at + 1)
        assert late.status_code == 200
        assert client.get(f"/api/v1/scan-sessions/{session['id']}").json()["status"] == "pending"
        # Scanned before the expiry, delivered late: it completes the pending session.
        in_time = _push_scan(stack, user, session["scene"], expires_at - 1)
        assert in_time.status_code == 200
        assert client.get(f"/api/v1/scan-sessions/{session['id']}").json()["status"] == "scanned"


def test_an_expired_session_never_completes(stack: Stack) -> None:
    (user,) = openids(1)
    with stack.client() as client:
        session = _create(client, ttl_seconds=60)
        age_session(stack.ws.engine, session["id"], 120)  # its 60 s are over
        got = client.get(f"/api/v1/scan-sessions/{session['id']}").json()
        assert got["status"] == "expired"
        # A push scanned while it was still valid, delivered after it expired: too late.
        expires_at = _expiry(stack, session["id"])
        assert _push_scan(stack, user, session["scene"], expires_at - 5).status_code == 200
        after = client.get(f"/api/v1/scan-sessions/{session['id']}").json()
    assert (after["status"], after["openid"], after["scans"]) == ("expired", None, 0)


def test_the_worker_sweeps_expired_sessions(stack: Stack) -> None:
    with stack.client() as client:
        session = _create(client, ttl_seconds=60)
    age_session(stack.ws.engine, session["id"], 120)
    assert stack.ws.scan_sessions.sweep_expired() >= 1
    with stack.ws.engine.connect() as conn:
        status = conn.execute(
            select(t.scan_sessions.c.status).where(t.scan_sessions.c.id == session["id"])
        ).scalar_one()
    assert status == "expired"


def test_a_cancelled_session_never_completes(stack: Stack) -> None:
    (user,) = openids(1)
    with stack.client() as client:
        session = _create(client)
        cancelled = client.delete(f"/api/v1/scan-sessions/{session['id']}")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        assert stack.emulator.scan(user, ticket=session["ticket"]).pushes[0].delivered
        got = client.get(f"/api/v1/scan-sessions/{session['id']}").json()
    assert (got["status"], got["openid"]) == ("cancelled", None)


def test_the_browser_poll_url_never_tells_the_openid(stack: Stack) -> None:
    (user,) = openids(1)
    with stack.client() as client:
        session = _create(client)
    poll_url = session["poll_url"]
    with httpx.Client(timeout=30) as browser:  # no API key
        before = browser.get(poll_url)
        assert before.status_code == 200, before.text
        assert before.json()["status"] == "pending"
        wrong = browser.get(poll_url.replace(session["poll_token"], "not-the-token"))
        assert wrong.status_code == 404
        stack.emulator.scan(user, ticket=session["ticket"])
        after = browser.get(poll_url)
        stream = browser.get(session["events_url"])
    assert after.status_code == 200
    assert set(after.json()) == {"id", "status", "scanned_at", "expires_at"}
    assert after.json()["status"] == "scanned"
    assert after.json()["scanned_at"] is not None
    assert user not in after.text
    # The SSE twin: one status event, then the stream closes (the session is final).
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "event: status" in stream.text
    assert '"scanned"' in stream.text
    assert user not in stream.text


def test_wait_returns_when_the_session_is_scanned(stack: Stack) -> None:
    (user,) = openids(1)
    with stack.client() as client:
        session = _create(client)
    answers: dict[str, Any] = {}

    def wait() -> None:
        with stack.client() as waiter:
            started = time.monotonic()
            answers["body"] = waiter.get(
                f"/api/v1/scan-sessions/{session['id']}", params={"wait": 20}
            ).json()
            answers["done"] = time.monotonic() - started

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.5)
    scanned_at = time.monotonic()
    stack.emulator.scan(user, ticket=session["ticket"])
    answered = time.monotonic()
    thread.join(30)
    assert answers["body"]["status"] == "scanned"
    assert answers["body"]["openid"] == user
    # Answered well before its 20 s, within a second of the push being answered.
    assert answers["done"] < 10
    assert answers["done"] - (answered - scanned_at) < 0.5 + 1.0 + 2.0


def _expiry(stack: Stack, session_id: int) -> int:
    with stack.ws.engine.connect() as conn:
        return int(
            conn.execute(
                select(t.scan_sessions.c.expires_at).where(t.scan_sessions.c.id == session_id)
            ).scalar_one()
        )
