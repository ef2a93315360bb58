"""SIGKILL in the middle of a load of pushes: every push answered ``success`` is stored
exactly once, and WeChat's retries after the restart are recorded once too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import Engine, select

from tests.support import pushes as p
from wxqr.emulator.testing import EmulatorAccount, running_emulator
from wxqr.protocol import EncryptMode, dedup_key, parse_push
from wxqr.store import tables as t

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def wxqr_serve(database_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "WXQR_DATABASE_URL": database_url,
        "WXQR_APPID": p.APPID,
        "WXQR_TOKEN": p.TOKEN,
        "WXQR_AES_KEY": p.AES_KEY,
        "WXQR_ENCRYPT_MODE": "safe",
        "WXQR_WORKER": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from wxqr.cli.main import main; main()",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "wxqr serve exited"
            assert time.monotonic() < deadline, "wxqr serve did not start"
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(10)


def test_sigkill_under_load_loses_and_doubles_nothing(database_url: str, engine: Engine) -> None:
    port = _free_port()
    account = EmulatorAccount(
        appid=p.APPID,
        secret="kill-test-secret",
        token=p.TOKEN,
        aes_key=p.AES_KEY,
        mode=EncryptMode.SAFE,
        original_id=p.ORIGINAL_ID,
        push_url=f"http://127.0.0.1:{port}/wechat/{p.APPID}",
    )
    with running_emulator(accounts=[account], push_timeout=2.0, push_tries=3) as emu:
        stop = threading.Event()
        answered: Counter[str] = Counter()

        def load(worker: int) -> None:
            i = 0
            while not stop.is_set():
                result = emu.follow(f"o-{worker}-{i}")
                answered["success" if result.error is None else "failed"] += 1
                i += 1

        with wxqr_serve(database_url, port) as server:
            threads = [threading.Thread(target=load, args=(n,)) for n in range(6)]
            for thread in threads:
                thread.start()
            while answered["success"] < 150:
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)  # in the middle of the load
            server.wait(10)
            time.sleep(0.3)  # pushes keep coming while the server is down
            stop.set()
            for thread in threads:
                thread.join()
        assert answered["failed"] > 0

        pushes = emu.pushes(p.APPID)
        answered_success = [push for push in pushes if push.delivered]
        assert len(answered_success) == answered["success"]
        with wxqr_serve(database_url, port):
            # WeChat's retries of every push that was not answered, after the restart.
            retried = 0
            for push in pushes:
                if not push.delivered:
                    response = httpx.post(
                        f"http://127.0.0.1:{port}/wechat/{p.APPID}",
                        params=push.query.to_params(),
                        content=push.body.encode(),
                    )
                    assert (response.status_code, response.text) == (200, "success")
                    retried += 1
        assert retried == len(pushes) - len(answered_success)

    with engine.connect() as conn:
        stored = Counter(conn.execute(select(t.events.c.dedup_key)).scalars())
    expected = {dedup_key(parse_push(push.xml)) for push in pushes}
    assert len(expected) == len(pushes)
    assert all(stored[dedup_key(parse_push(push.xml))] == 1 for push in answered_success)
    assert set(stored) == expected
    assert max(stored.values()) == 1
