"""Graceful shutdown and rolling restarts: two ``wxqr serve`` instances on one database
behind a load balancer, each stopped with SIGTERM (as systemd does) and started again
in turn while the emulator keeps pushing. Every push is answered within WeChat's three
tries and stored exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.ops.balancer import balancer
from tests.ops.serving import free_port, serve_env, start_serve, stop_serve
from tests.support import pushes as p
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator
from wxqr.protocol import EncryptMode, dedup_key, parse_push
from wxqr.store import tables as t

pytestmark = pytest.mark.slow


def _account(port: int) -> EmulatorAccount:
    return EmulatorAccount(
        appid=p.APPID,
        secret="rolling-secret",
        token=p.TOKEN,
        aes_key=p.AES_KEY,
        mode=EncryptMode.SAFE,
        original_id=p.ORIGINAL_ID,
        push_url=f"http://127.0.0.1:{port}/wechat/{p.APPID}",
    )


def _wait_for(emu: RunningEmulator, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(emu.pushes(p.APPID)) < count:
        assert time.monotonic() < deadline, "the load stalled"
        time.sleep(0.02)


def test_rolling_restart_under_load_loses_and_doubles_nothing(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    env = serve_env(database_url)
    log = tmp_path / "serve.log"
    servers = [start_serve(env, port, log=log) for port in ports]
    try:
        with balancer(ports) as front, running_emulator(accounts=[_account(front)]) as emu:
            stop = threading.Event()

            def load(worker: int) -> None:
                i = 0
                while not stop.is_set():
                    emu.follow(f"o-{worker}-{i}")
                    i += 1

            threads = [threading.Thread(target=load, args=(n,)) for n in range(6)]
            for thread in threads:
                thread.start()
            try:
                for index, port in enumerate(ports):
                    _wait_for(emu, len(emu.pushes(p.APPID)) + 100)
                    # SIGTERM in the middle of the load: in-flight pushes finish, the
                    # writer drains, the process exits 0; new connections go elsewhere.
                    assert stop_serve(servers[index]) == 0
                    _wait_for(emu, len(emu.pushes(p.APPID)) + 50)  # served by the other
                    servers[index] = start_serve(env, port, log=log)
                _wait_for(emu, len(emu.pushes(p.APPID)) + 100)
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
            pushes = emu.pushes(p.APPID)
    finally:
        exits = [stop_serve(server) for server in servers]
    assert exits == [0, 0], log.read_text()

    retried = [push for push in pushes if len(push.attempts) > 1]
    undelivered = [push for push in pushes if not push.delivered]
    assert undelivered == [], (len(undelivered), undelivered[0].attempts)
    # A stopping instance finishes what it accepted: never a 500; a 503 (a push not durable
    # within its deadline on a busy machine) only within WeChat's tries, as checked above.
    assert [a for push in pushes for a in push.attempts if a.status == 500] == []
    assert len(pushes) >= 350
    with engine.connect() as conn:
        stored = Counter(conn.execute(select(t.events.c.dedup_key)).scalars())
    expected = {dedup_key(parse_push(push.xml)) for push in pushes}
    assert len(expected) == len(pushes)
    assert set(stored) == expected, f"{len(expected - set(stored))} lost"
    assert max(stored.values()) == 1
    # Connections cut by a restart were retried as WeChat does (none may be needed).
    assert len(retried) < len(pushes) // 10
