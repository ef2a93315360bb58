"""``wxqr serve`` as a real process for the operations tests, and a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import pushes as p

WXQR = [sys.executable, "-c", "from wxqr.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a single-account (safe mode) ``wxqr serve`` without a worker."""
    return {
        **os.environ,
        "WXQR_DATABASE_URL": database_url,
        "WXQR_APPID": p.APPID,
        "WXQR_TOKEN": p.TOKEN,
        "WXQR_AES_KEY": p.AES_KEY,
        "WXQR_ENCRYPT_MODE": "safe",
        "WXQR_WORKER": "0",
        **extra,
    }


def start_serve(
    env: Mapping[str, str], port: int, *args: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``wxqr serve --port PORT ARGS…`` and wait until ``/healthz`` answers."""
    out = open(log, "ab") if log is not None else None  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [*WXQR, "serve", "--port", str(port), "--log-level", "warning", *args],
        env=dict(env),
        stdout=out,
        stderr=subprocess.STDOUT if out is not None else None,
    )
    if out is not None:
        out.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"wxqr serve exited with {process.returncode}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("wxqr serve did not start")
        time.sleep(0.05)


def stop_serve(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM, as a service manager stops it; the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout)


@contextmanager
def wxqr_serve(
    env: Mapping[str, str], port: int, *args: str, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    process = start_serve(env, port, *args, log=log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
