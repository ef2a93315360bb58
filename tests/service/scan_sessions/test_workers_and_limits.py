"""Scan sessions across serving processes, the sessions-per-minute limit, and their
outbound webhooks (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

import httpx
from sqlalchemy import Engine

from tests.support.db_helpers import age_session
from tests.support.stack import APPID, SECRET, TOKEN, make_settings, openids
from tests.support.webhook_receiver import Receiver
from tests.support.webhook_stack import webhook_stack
from wxqr.emulator.testing import RunningEmulator, serve_app
from wxqr.runtime import Runtime
from wxqr.service.accounts import add_account, get_account
from wxqr.settings import Settings
from wxqr.web.app import create_app


@contextmanager
def _workers(
    engine: Engine, settings: Settings, emulator: RunningEmulator, count: int
) -> Iterator[tuple[list[str], str]]:
    """``count`` serving runtimes on one database (as `wxqr serve --workers`), each with
    its own engine, writer and watcher; the emulator pushes to the last one."""
    if get_account(engine, APPID) is None:
        add_account(engine, appid=APPID, token=TOKEN, app_secret=SECRET)
    with ExitStack() as stack:
        runtimes = [stack.enter_context(Runtime.open(settings, serve=True)) for _ in range(count)]
        key = runtimes[0].workspace.api_keys.create(f"w-{uuid.uuid4().hex[:6]}").secret
        urls = [stack.enter_context(serve_app(create_app(r))) for r in runtimes]
        emulator.set_push_url(APPID, f"{urls[-1]}/wechat/{APPID}")
        try:
            yield urls, key
        finally:
            emulator.set_push_url(APPID, None)


def test_a_waiter_on_one_worker_sees_a_scan_recorded_by_another(
    engine: Engine, database_url: str, emulator: RunningEmulator
) -> None:
    (user,) = openids(1)
    settings = make_settings(database_url, emulator)
    with _workers(engine, settings, emulator, 2) as (urls, key):
        headers = {"X-API-Key": key}
        with httpx.Client(base_url=urls[0], headers=headers, timeout=30) as client:
            created = client.post("/api/v1/scan-sessions", json={"purpose": "login"}).json()
        answers: dict[str, Any] = {}

        def wait_on_first_worker() -> None:
            with httpx.Client(base_url=urls[0], headers=headers, timeout=30) as client:
                answers["body"] = client.get(
                    f"/api/v1/scan-sessions/{created['id']}", params={"wait": 25}
                ).json()
                answers["at"] = time.monotonic()

        waiter = threading.Thread(target=wait_on_first_worker)
        waiter.start()
        time.sleep(0.5)
        result = emulator.scan(user, ticket=created["ticket"])  # recorded by the second
        answered = time.monotonic()
        assert result.pushes[0].delivered
        waiter.join(30)
    assert answers["body"]["status"] == "scanned"
    assert answers["body"]["openid"] == user
    # Within a second of the push being answered (plus the margin of a loaded machine).
    assert answers["at"] - answered < 2.0


def test_sessions_per_minute_are_limited_with_a_429(
    engine: Engine, database_url: str, emulator: RunningEmulator
) -> None:
    settings = replace(make_settings(database_url, emulator), scan_sessions_per_minute=3)
    with (
        _workers(engine, settings, emulator, 1) as (urls, key),
        httpx.Client(base_url=urls[0], headers={"X-API-Key": key}, timeout=30) as client,
    ):
        made = [
            client.post("/api/v1/scan-sessions", json={"purpose": "login"}).status_code
            for _ in range(3)
        ]
        calls = emulator.calls("/cgi-bin/qrcode/create")
        refused = client.post("/api/v1/scan-sessions", json={"purpose": "login"})
        assert emulator.calls("/cgi-bin/qrcode/create") == calls  # WeChat not asked
    assert made == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert "WXQR_SCAN_SESSIONS_PER_MINUTE" in refused.json()["detail"]


def test_session_events_are_sent_as_webhooks(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    buyers = openids(2)
    types = ["scan_session.completed", "scan_session.scanned", "scan_session.expired"]
    with webhook_stack(engine, database_url, emulator) as stack:
        hook = stack.add_webhook(receiver.url + "/hooks/sessions", types)
        with stack.client() as client:
            order = client.post(
                "/api/v1/scan-sessions",
                json={
                    "purpose": "order",
                    "ref": "order-7",
                    "payload": {"total": 42},
                    "once": False,
                },
            ).json()
            lapsed = client.post("/api/v1/scan-sessions", json={"purpose": "login"}).json()
        for buyer in buyers:
            assert emulator.scan(buyer, ticket=order["ticket"]).pushes[0].delivered
        age_session(stack.ws.engine, lapsed["id"], 600)
        assert stack.ws.scan_sessions.sweep_expired() == 1
        got = receiver.wait_for(lambda r: len(r) >= 4)
    documents: dict[str, list[dict[str, Any]]] = {}
    for item in got:
        verified = item.verify(hook["secret"])
        documents.setdefault(verified["type"], []).append(verified)
    assert sorted((k, len(v)) for k, v in documents.items()) == [
        ("scan_session.completed", 1),
        ("scan_session.expired", 1),
        ("scan_session.scanned", 2),
    ]
    completed = documents["scan_session.completed"][0]["data"]
    assert completed["session_id"] == order["id"]
    assert completed["ref"] == "order-7"
    assert completed["payload"] == {"total": 42}
    assert completed["openid"] == buyers[0]
    assert completed["followed_now"] is True
    scans = sorted(
        (d["data"]["scan"], d["data"]["openid"]) for d in documents["scan_session.scanned"]
    )
    assert scans == [(1, buyers[0]), (2, buyers[1])]
    expired = documents["scan_session.expired"][0]["data"]
    assert expired["session_id"] == lapsed["id"]
    assert "openid" not in expired
