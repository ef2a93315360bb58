"""Issue 14, item 16 — WeChat's rule: the developer deletes a user's information when the
user unfollows. On unfollow wxqr erases what it fetched through user/info (how WeChat
says the user came, the QR scene, when fetched), keeps the event log and the follower's
attribution (docs/operations.md says what is kept and why), and a user/info answer that
arrives after the unfollow is not stored."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.support import pushes as p
from tests.support.db_helpers import add_channel, add_scene, events
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator
from wxqr.protocol import SUCCESS, EncryptMode
from wxqr.service.accounts import add_account
from wxqr.service.worker import JobWorker, WorkerOptions
from wxqr.settings import Settings
from wxqr.store import tables as t
from wxqr.web.app import create_app

SECRET = "emulated-app-secret"


@pytest.fixture
def emu(database_url: str, engine: Engine) -> Iterator[RunningEmulator]:
    add_account(engine, appid=p.APPID, token=p.TOKEN, app_secret=SECRET)
    account = EmulatorAccount(
        appid=p.APPID, secret=SECRET, token=p.TOKEN, original_id=p.ORIGINAL_ID
    )
    with running_emulator(accounts=[account]) as running:
        yield running


def _push(client: TestClient, xml: str) -> None:
    sealed = p.seal(xml, p.keys_for(EncryptMode.PLAIN))
    response = client.post(
        f"/wechat/{p.APPID}", params=sealed.query.to_params(), content=sealed.body
    )
    assert (response.status_code, response.text) == (200, SUCCESS)


def _follower(engine: Engine, openid: str) -> dict[str, object]:
    f = t.followers
    with engine.connect() as conn:
        row = conn.execute(select(f).where(f.c.openid == openid)).mappings().one()
    return dict(row)


def _worker(engine: Engine, emu: RunningEmulator) -> JobWorker:
    return JobWorker(engine, WorkerOptions(backoff_base=1, api_base=emu.base_url))


def test_unfollow_erases_the_fetched_profile_and_keeps_attribution(
    emu: RunningEmulator, database_url: str, engine: Engine
) -> None:
    channel = add_channel(engine, p.APPID, "poster")
    add_scene(engine, p.APPID, "5", channel_id=channel)
    emu.follow("o-leaver", subscribe_scene="ADD_SCENE_QR_CODE")
    app = create_app(Settings(database_url=database_url, worker_enabled=False))
    with TestClient(app) as client:
        _push(client, p.subscribe_scan("o-leaver", "5", int(time.time()) - 5))
        worker = _worker(engine, emu)
        try:
            assert worker.run_once() == 1  # user_info
        finally:
            worker.stop()
        fetched = _follower(engine, "o-leaver")
        assert fetched["wechat_subscribe_scene"] == "ADD_SCENE_QR_CODE"
        assert fetched["user_info_at"] is not None

        _push(client, p.unsubscribe("o-leaver", int(time.time())))
    left = _follower(engine, "o-leaver")
    assert (left["wechat_subscribe_scene"], left["wechat_qr_scene"], left["user_info_at"]) == (
        None,
        None,
        None,
    )
    # Kept for attribution: the follower's first-touch channel and the event log.
    assert left["following"] is False
    assert left["first_channel_id"] == channel
    assert [r["kind"] for r in events(engine)] == ["subscribe_scan", "unsubscribe"]


def test_a_user_info_answer_after_the_unfollow_is_not_stored(
    emu: RunningEmulator, database_url: str, engine: Engine
) -> None:
    emu.follow("o-quick", subscribe_scene="ADD_SCENE_SEARCH")  # WeChat still says "follows"
    app = create_app(Settings(database_url=database_url, worker_enabled=False))
    now = int(time.time())
    with TestClient(app) as client:
        _push(client, p.subscribe("o-quick", now - 5))
        _push(client, p.unsubscribe("o-quick", now))  # before the worker got to it
    worker = _worker(engine, emu)
    try:
        worker.run_once()
    finally:
        worker.stop()
    assert emu.calls("/cgi-bin/user/info") <= 1
    row = _follower(engine, "o-quick")
    assert row["following"] is False
    assert row["wechat_subscribe_scene"] is None
    assert row["user_info_at"] is None
