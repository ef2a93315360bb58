"""Code reservations a stopped process left pending, finished later (CodeService.resume_abandoned,
the worker's chore and ``wxqr code resume``)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from tests.support.stack import APPID
from wxqr.cli.main import app as cli
from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import QRKind
from wxqr.service.accounts import Account
from wxqr.service.channels import NewChannel
from wxqr.service.chores import resume_reservations_chore
from wxqr.service.codes import ABANDONED_AFTER_SECONDS, CodeStatus, SceneType
from wxqr.service.worker import Chore, JobWorker
from wxqr.service.workspace import Workspace
from wxqr.store.tables import scenes

WS = tuple[Workspace, Account]
CREATE = "/cgi-bin/qrcode/create"


def _pending(
    ws: WS,
    scene: str,
    *,
    kind: QRKind = QRKind.PERMANENT,
    scene_type: SceneType = SceneType.STR,
    expire_seconds: int | None = None,
    age: float = ABANDONED_AFTER_SECONDS + 60,
) -> int:
    """A reservation as a process that died before WeChat answered leaves it."""
    workspace, account = ws
    channel = workspace.channels.create(account.id, NewChannel(name=f"c-{scene}")).id
    with workspace.engine.begin() as conn:
        result = conn.execute(
            insert(scenes).values(
                account_id=account.id,
                channel_id=channel,
                scene=scene,
                scene_type=scene_type.value,
                qr_kind=kind.value,
                expire_seconds=expire_seconds,
                created_at=int(workspace.clock() - age),
            )
        )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _exists(engine: Engine, code_id: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(scenes.c.id).where(scenes.c.id == code_id)).first() is not None


def test_a_reservation_left_by_a_killed_issue_is_finished_by_resume(
    ws: WS, database_url: str, emulator: RunningEmulator
) -> None:
    workspace, account = ws
    channel = workspace.channels.create(account.id, NewChannel(name="killed")).id
    env = {
        **os.environ,
        "WXQR_DATABASE_URL": database_url,
        "WXQR_WECHAT_API_BASE": emulator.base_url,
        "WXQR_WECHAT_MP_BASE": emulator.base_url,
    }
    emulator.set_faults(latency=8.0, paths=[CREATE])  # WeChat slow: the process waits
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from wxqr.cli.main import main; main()",
            "code",
            "issue",
            str(channel),
            "--account",
            APPID,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not workspace.codes.codes_of(channel):
            assert process.poll() is None, "wxqr code issue exited before reserving"
            assert time.monotonic() < deadline, "no reservation appeared"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        emulator.set_faults()
        if process.poll() is None:
            process.kill()
            process.wait(10)
    [reserved] = workspace.codes.codes_of(channel)
    assert reserved.status(workspace.clock()) is CodeStatus.PENDING

    # Too young: it could still be in flight, so nothing is asked of WeChat.
    before = emulator.calls(CREATE)
    young = workspace.codes.resume_abandoned()
    assert (young.issued, young.released, young.left) == ([], [], [])
    assert emulator.calls(CREATE) == before

    done = workspace.codes.resume_abandoned(older_than_seconds=0)
    assert done.issued == [reserved.id]
    assert (done.released, done.left) == ([], [])
    code = workspace.codes.get(reserved.id)
    assert code.status(workspace.clock()) is CodeStatus.ACTIVE
    assert code.scene == reserved.scene
    assert code.kind is QRKind.PERMANENT
    assert code.url is not None
    assert code.url.startswith("http://weixin.qq.com/q/")
    assert workspace.codes.current_code(channel) == code
    # Finished once: a second pass has nothing to do.
    again = workspace.codes.resume_abandoned(older_than_seconds=0)
    assert (again.issued, again.released, again.left) == ([], [], [])


def test_resume_keeps_what_wechat_cannot_answer_and_releases_what_it_refuses(
    ws: WS, emulator: RunningEmulator
) -> None:
    workspace, _ = ws
    permanent = _pending(ws, f"lost-{uuid.uuid4().hex[:8]}")
    temporary = _pending(
        ws, "4000000001", kind=QRKind.TEMPORARY, scene_type=SceneType.ID, expire_seconds=3600
    )

    emulator.set_faults(drop_ratio=1.0, paths=[CREATE])  # WeChat unreachable
    try:
        unreachable = workspace.codes.resume_abandoned()
    finally:
        emulator.set_faults()
    assert unreachable.left == [permanent, temporary]
    assert (unreachable.issued, unreachable.released) == ([], [])
    assert workspace.codes.get(permanent).ticket is None

    # WeChat now refuses any new permanent code (45029), and issues temporary ones.
    limit = emulator.configure()["permanent_limit"]
    emulator.configure(permanent_limit=0)
    try:
        done = workspace.codes.resume_abandoned()
    finally:
        emulator.configure(permanent_limit=limit)
    assert done.released == [permanent]
    assert done.issued == [temporary]
    assert done.left == []
    assert not _exists(workspace.engine, permanent)
    issued = workspace.codes.get(temporary)
    assert issued.status(workspace.clock()) is CodeStatus.ACTIVE
    assert issued.expires_at is not None
    assert abs(issued.expires_at - (workspace.clock() + 3600)) <= 5  # counted from now


def test_the_worker_runs_its_chores_on_schedule_and_survives_a_failing_one(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1_000.0]
    calls: list[str] = []

    def failing() -> None:
        calls.append("failing")
        raise RuntimeError("database away")

    worker = JobWorker(
        engine,
        clock=lambda: now[0],
        chores=[
            Chore("every minute", 60, lambda: calls.append("minute")),
            Chore("bad", 30, failing),
        ],
    )
    assert worker.run_chores() == []
    now[0] += 30
    with caplog.at_level(logging.ERROR, logger="wxqr.service.worker"):
        assert worker.run_chores() == ["bad"]
    assert "chore 'bad' failed" in caplog.text
    now[0] += 30
    assert worker.run_chores() == ["every minute", "bad"]
    assert worker.run_chores() == []
    assert calls == ["failing", "minute", "failing"]


def test_the_resume_chore_finishes_old_reservations(ws: WS) -> None:
    workspace, _ = ws
    pending = _pending(ws, f"chore-{uuid.uuid4().hex[:8]}")
    chore = resume_reservations_chore(workspace.codes)
    assert chore.every_seconds == 300
    chore.run()
    assert workspace.codes.get(pending).status(workspace.clock()) is CodeStatus.ACTIVE


def test_wxqr_serves_worker_has_the_resume_chore(database_url: str) -> None:
    from wxqr.settings import Settings
    from wxqr.web.app import create_app

    app = create_app(Settings(database_url=database_url, worker_enabled=True))
    try:
        assert [c.name for c in app.state.worker.chores] == [
            "finish abandoned code reservations",
            "expire and prune scan sessions",
            "renew temporary codes, announce expiring ones",  # lifecycle:
            "fold the stats rollups",
        ]
    finally:
        app.state.runtime.close()


def test_wxqr_code_resume(ws: WS, database_url: str, emulator: RunningEmulator) -> None:
    workspace, _ = ws
    old = _pending(ws, f"cli-{uuid.uuid4().hex[:8]}")
    young = _pending(ws, f"cli-{uuid.uuid4().hex[:8]}", age=0)
    env = {
        "WXQR_DATABASE_URL": database_url,
        "WXQR_WECHAT_API_BASE": emulator.base_url,
        "WXQR_WECHAT_MP_BASE": emulator.base_url,
    }
    result = CliRunner().invoke(cli, ["code", "resume", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"issued": [old], "released": [], "left": []}
    assert workspace.codes.get(young).ticket is None
    result = CliRunner().invoke(cli, ["code", "resume", "--older-than-minutes", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert "issued 1, released 0" in result.stdout
    assert workspace.codes.get(young).ticket is not None
