"""SIGKILL of ``wxqr serve`` during a load of scans with deliveries in flight, restart:
every event answered ``success`` to the emulator reaches the receiver at least once, with
the same ``webhook-id`` (and body) on every repeat."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from tests.support import pushes as p
from tests.support.webhook_receiver import Receiver
from wxqr.emulator.testing import EmulatorAccount, running_emulator
from wxqr.protocol import EncryptMode, parse_push
from wxqr.service.accounts import add_account
from wxqr.service.webhooks import AddressPolicy, WebhookService
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
        "WXQR_WORKER": "1",  # the delivery worker runs beside the job worker
        "WXQR_WEBHOOK_ALLOW_HTTP": "1",
        "WXQR_WEBHOOK_ALLOW_PRIVATE": "1",
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


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _gone(pids: set[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_sigkill_loses_no_delivery(database_url: str, engine: Engine, receiver: Receiver) -> None:
    receiver.delay = 0.02  # deliveries stay in flight for a moment
    service = WebhookService(engine, AddressPolicy(allow_http=True, allow_private=True))
    add_account(
        engine,
        appid=p.APPID,
        token=p.TOKEN,
        aes_key=p.AES_KEY,
        encrypt_mode=EncryptMode.SAFE,
    )
    hook = service.create(receiver.url, ["follow"])
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
            while answered["success"] < 150 or not receiver.snapshot():
                time.sleep(0.01)
            workers = _children(server.pid)  # the ingest writer and the delivery worker
            assert len(workers) >= 2
            server.send_signal(signal.SIGKILL)  # pushes and deliveries in flight
            server.wait(10)
            assert _gone(workers, 10)  # a killed server leaves no worker behind
            stop.set()
            for thread in threads:
                thread.join()
        before_restart = len(receiver.snapshot())
        pushes = emu.pushes(p.APPID)
        succeeded = {parse_push(push.xml).from_user for push in pushes if push.delivered}
        assert len(succeeded) == answered["success"]
        with engine.connect() as conn:
            pending = conn.execute(
                select(func.count()).where(t.webhook_deliveries.c.status == "pending")
            ).scalar_one()
            pending += conn.execute(select(func.count()).select_from(t.webhook_outbox)).scalar_one()
        assert pending > 0  # the kill left deliveries to do
        with wxqr_serve(database_url, port):
            got = receiver.wait_for(
                lambda r: succeeded <= {x.document["data"]["openid"] for x in r}, timeout=90
            )
            assert len(got) > before_restart

    by_id: dict[str, set[bytes]] = defaultdict(set)
    openid_of: dict[str, str] = {}
    for item in receiver.snapshot():
        verified = item.verify(hook.secret)
        by_id[item.message_id].add(item.body)
        openid_of[item.message_id] = verified["data"]["openid"]
    assert all(len(bodies) == 1 for bodies in by_id.values())  # same body on every repeat
    # One webhook-id per event: repeats of an event never get a new id.
    assert len(set(openid_of.values())) == len(openid_of)
    assert succeeded <= set(openid_of.values())
