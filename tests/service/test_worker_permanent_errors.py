"""The job worker gives up at once on a permanent WeChat error (issue 14, item 13): a
user_info job for an openid WeChat does not know (errcode 40003) is tried once, not eight
times with backoff; a transient error is still retried."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import pushes as p
from tests.support.db_helpers import add_channel, add_scene, jobs
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator
from wxqr.protocol import SUCCESS, EncryptMode
from wxqr.service.accounts import add_account
from wxqr.service.worker import JobWorker, WorkerOptions
from wxqr.settings import Settings
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


def _follow(database_url: str, openid: str, scene: str | None = None) -> None:
    """A signed follow push straight to the webhook: wxqr queues a user_info job (and a
    tag_follower job when the scene's channel tags its followers)."""
    app = create_app(Settings(database_url=database_url, worker_enabled=False))
    now = int(time.time())
    xml = p.subscribe(openid, now) if scene is None else p.subscribe_scan(openid, scene, now)
    with TestClient(app) as client:
        sealed = p.seal(xml, p.keys_for(EncryptMode.PLAIN))
        response = client.post(
            f"/wechat/{p.APPID}", params=sealed.query.to_params(), content=sealed.body
        )
        assert (response.status_code, response.text) == (200, SUCCESS)


def test_an_unknown_openid_is_tried_once(
    emu: RunningEmulator, database_url: str, engine: Engine
) -> None:
    _follow(database_url, "o-wechat-never-heard-of")
    clock = [time.time() + 1]  # after the job's ingest time (whole seconds)
    worker = JobWorker(
        engine,
        WorkerOptions(backoff_base=1, max_attempts=8, api_base=emu.base_url),
        clock=lambda: clock[0],
    )
    try:
        assert worker.run_once() == 1
        (job,) = jobs(engine)
        assert (job["kind"], job["status"], job["attempts"]) == ("user_info", "failed", 1)
        assert "40003" in job["last_error"]
        clock[0] += 3600
        assert worker.run_once() == 0
        assert emu.calls("/cgi-bin/user/info") == 1
    finally:
        worker.stop()


def test_a_busy_wechat_is_still_retried(
    emu: RunningEmulator, database_url: str, engine: Engine
) -> None:
    _follow(database_url, "o-unlucky")
    emu.set_faults(busy_ratio=1.0, paths=["/cgi-bin/user/info"])
    clock = [time.time() + 1]
    worker = JobWorker(
        engine,
        WorkerOptions(backoff_base=1, max_attempts=8, api_base=emu.base_url),
        clock=lambda: clock[0],
    )
    try:
        assert worker.run_once() == 1
        (job,) = jobs(engine)
        assert (job["status"], job["attempts"]) == ("pending", 1)
        assert "SystemBusy" in job["last_error"]
    finally:
        worker.stop()


def test_tagging_an_unknown_openid_alone_is_tried_once(
    emu: RunningEmulator, database_url: str, engine: Engine
) -> None:
    channel = add_channel(engine, p.APPID, "poster", follower_tags=["vip"])
    add_scene(engine, p.APPID, "5", channel_id=channel)
    _follow(database_url, "o-ghost", scene="5")
    clock = [time.time() + 1]
    worker = JobWorker(
        engine,
        WorkerOptions(backoff_base=1, max_attempts=8, api_base=emu.base_url),
        clock=lambda: clock[0],
    )
    try:
        assert worker.run_once() == 2
        assert sorted((j["kind"], j["status"], j["attempts"]) for j in jobs(engine)) == [
            ("tag_follower", "failed", 1),
            ("user_info", "failed", 1),
        ]
    finally:
        worker.stop()
