"""End to end over real HTTP: the emulator's simulated users scan, wxqr (a real uvicorn
server) records and replies, and the background worker tags followers through WeChat."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from tests.support import pushes as p
from tests.support.db_helpers import add_channel, add_scene, events, follower, jobs
from wxqr.emulator.testing import (
    EmulatorAccount,
    RunningEmulator,
    running_emulator,
    serve_app,
)
from wxqr.protocol import EncryptMode, QRRequest, TextReply
from wxqr.service.accounts import Account, add_account
from wxqr.service.worker import JobWorker, WorkerOptions
from wxqr.settings import Settings
from wxqr.web.app import create_app
from wxqr.wechat import ClientConfig, SyncWeChatClient

SECRET = "emulated-app-secret"


@dataclass
class Stack:
    emulator: RunningEmulator
    wxqr_url: str
    engine: Engine

    def ticket(self, scene: str) -> str:
        config = ClientConfig(
            appid=p.APPID,
            secret=SECRET,
            api_base=self.emulator.base_url,
            mp_base=self.emulator.base_url,
        )
        with SyncWeChatClient(config) as client:
            return client.create_qrcode(QRRequest.permanent(scene)).ticket


def _stack(
    database_url: str, engine: Engine, mode: EncryptMode, *, worker: bool
) -> Iterator[Stack]:
    aes = None if mode is EncryptMode.PLAIN else p.AES_KEY
    add_account(
        engine, appid=p.APPID, token=p.TOKEN, app_secret=SECRET, aes_key=aes, encrypt_mode=mode
    )
    account = EmulatorAccount(
        appid=p.APPID,
        secret=SECRET,
        token=p.TOKEN,
        aes_key=aes,
        mode=mode,
        original_id=p.ORIGINAL_ID,
    )
    with running_emulator(accounts=[account], push_timeout=5.0) as emulator:
        settings = Settings(
            database_url=database_url,
            worker_enabled=worker,
            worker_poll_seconds=0.05,
            wechat_api_base=emulator.base_url,
            wechat_mp_base=emulator.base_url,
        )
        with serve_app(create_app(settings)) as wxqr_url:
            emulator.set_push_url(p.APPID, f"{wxqr_url}/wechat/{p.APPID}")
            yield Stack(emulator, wxqr_url, engine)


@pytest.fixture(params=p.MODES, ids=lambda m: m.value)
def stack(request: pytest.FixtureRequest, database_url: str, engine: Engine) -> Iterator[Stack]:
    yield from _stack(database_url, engine, request.param, worker=False)


@pytest.fixture
def stack_with_worker(database_url: str, engine: Engine) -> Iterator[Stack]:
    yield from _stack(database_url, engine, EncryptMode.SAFE, worker=True)


def test_scans_follows_and_unfollows_end_to_end(stack: Stack) -> None:
    emu, engine = stack.emulator, stack.engine
    assert emu.verify_push_url(p.APPID)
    channel = add_channel(engine, p.APPID, "tv-show")
    add_scene(engine, p.APPID, "tv", channel_id=channel, reply={"type": "text", "content": "hi"})
    ticket = stack.ticket("tv")
    first = emu.scan("o-viewer", ticket=ticket)
    assert first.outcome == "subscribe"
    assert first.reply == TextReply("hi")
    assert first.error is None
    again = emu.scan("o-viewer", ticket=ticket)
    assert again.outcome == "scan"
    assert again.reply == TextReply("hi")
    assert emu.message("o-viewer", "hello").error is None
    assert emu.unsubscribe("o-viewer").error is None
    rows = events(engine)
    assert [r["kind"] for r in rows] == ["subscribe_scan", "scan", "message", "unsubscribe"]
    assert [r["channel_id"] for r in rows] == [channel, channel, None, channel]
    assert rows[0]["ticket"] == ticket
    row = follower(engine, "o-viewer")
    assert row is not None
    assert row["following"] is False
    assert row["first_scene"] == "tv"


def test_the_worker_tags_followers_and_fetches_user_info(stack_with_worker: Stack) -> None:
    emu, engine = stack_with_worker.emulator, stack_with_worker.engine
    channel = add_channel(engine, p.APPID, "vip-poster", follower_tags=["vip", "poster"])
    add_scene(engine, p.APPID, "77", channel_id=channel)
    result = emu.scan("o-fan", ticket=stack_with_worker.ticket("77"))
    assert result.outcome == "subscribe"
    assert result.error is None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if all(job["status"] == "done" for job in jobs(engine)) and len(jobs(engine)) == 2:
            break
        time.sleep(0.05)
    assert sorted((j["kind"], j["status"]) for j in jobs(engine)) == [
        ("tag_follower", "done"),
        ("user_info", "done"),
    ]
    fan = next(f for f in emu.followers(p.APPID) if f.openid == "o-fan")
    assert len(fan.tagids) == 2
    row = follower(engine, "o-fan")
    assert row is not None
    assert row["wechat_subscribe_scene"] == "ADD_SCENE_QR_CODE"
    assert row["wechat_qr_scene"] == "77"
    assert row["user_info_at"] is not None


@pytest.fixture
def quiet_stack(database_url: str, engine: Engine) -> Iterator[Stack]:
    yield from _stack(database_url, engine, EncryptMode.PLAIN, worker=False)


def test_failed_jobs_are_retried_with_backoff(quiet_stack: Stack) -> None:
    emu, engine = quiet_stack.emulator, quiet_stack.engine
    channel = add_channel(engine, p.APPID, "shop", follower_tags=["shop"])
    add_scene(engine, p.APPID, "88", channel_id=channel)
    ticket = quiet_stack.ticket("88")

    def client_for(account: Account) -> SyncWeChatClient:
        assert account.app_secret is not None
        config = ClientConfig(
            appid=account.appid,
            secret=account.app_secret,
            api_base=emu.base_url,
            mp_base=emu.base_url,
            busy_retries=0,
        )
        return SyncWeChatClient(config)

    clock = [time.time()]
    worker = JobWorker(
        engine,
        WorkerOptions(backoff_base=10, max_attempts=3),
        client_factory=client_for,
        clock=lambda: clock[0],
    )
    emu.set_faults(busy_ratio=1.0, paths=["/cgi-bin/tags/get", "/cgi-bin/user/info"])
    try:
        emu.scan("o-late", ticket=ticket)
        # Jobs are due from their ingest time (whole seconds): start the worker's clock
        # after it, so the test does not depend on crossing a second boundary.
        clock[0] = time.time() + 1
        assert worker.run_once() == 2
        pending = jobs(engine)
        assert {j["status"] for j in pending} == {"pending"}
        assert all(j["attempts"] == 1 and "SystemBusy" in j["last_error"] for j in pending)
        assert worker.run_once() == 0  # not due yet
        clock[0] += 11
        assert worker.run_once() == 2  # second try, still busy: next one in 20 s
        emu.set_faults()
        clock[0] += 21
        assert worker.run_once() == 2
        assert {(j["status"], j["attempts"]) for j in jobs(engine)} == {("done", 3)}
        fan = next(f for f in emu.followers(p.APPID) if f.openid == "o-late")
        assert len(fan.tagids) == 1
    finally:
        worker.stop()


def test_jobs_fail_for_good_after_max_attempts(quiet_stack: Stack) -> None:
    emu, engine = quiet_stack.emulator, quiet_stack.engine
    emu.set_faults(busy_ratio=1.0, paths=["/cgi-bin/user/info"])
    clock = [time.time()]
    worker = JobWorker(
        engine,
        WorkerOptions(backoff_base=1, max_attempts=2, api_base=emu.base_url),
        clock=lambda: clock[0],
    )
    try:
        emu.follow("o-plain")
        clock[0] = time.time() + 1  # after the job's ingest time, see above
        for _ in range(2):
            assert worker.run_once() == 1
            clock[0] += 5
        (job,) = jobs(engine)
        assert (job["kind"], job["status"], job["attempts"]) == ("user_info", "failed", 2)
        assert worker.run_once() == 0
    finally:
        worker.stop()
