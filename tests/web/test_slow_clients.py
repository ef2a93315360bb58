"""Issue 14, item 2: slow and idle connections cannot hold ``wxqr serve``.

A real ``wxqr serve`` process with a small connection cap and short read deadlines;
raw loopback sockets play the attacker (bounded: a few dozen connections). Before,
uvicorn held a connection sending its headers or body slowly for ever, and 20,400 of
them exhausted the file descriptors: pushes and ``/healthz`` failed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support import pushes as p
from wxqr.protocol import SUCCESS, EncryptMode

pytestmark = pytest.mark.slow

SERVE = (sys.executable, "-c", "from wxqr.cli.main import main; main()", "serve")
CAP = 32
HEADER_TIMEOUT = 3.0
BODY_TIMEOUT = 3.0
KEEPALIVE = 1.0
PUSH_DEADLINE = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve(tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "WXQR_DATABASE_URL": f"sqlite:///{tmp_path / 'wxqr.sqlite3'}",
        "WXQR_APPID": p.APPID,
        "WXQR_TOKEN": p.TOKEN,
        "WXQR_WORKER": "0",
        "WXQR_HTTP_MAX_CONNECTIONS": str(CAP),
        "WXQR_HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "WXQR_HTTP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "WXQR_HTTP_KEEPALIVE_SECONDS": str(KEEPALIVE),
        "WXQR_PUSH_DEADLINE_SECONDS": str(PUSH_DEADLINE),
    }
    process = subprocess.Popen([*SERVE, "--port", str(port), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "wxqr serve exited"
            assert time.monotonic() < deadline, "wxqr serve did not start"
            time.sleep(0.05)
        yield base, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _open(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(data)
    return sock


def _closed_by_server(sock: socket.socket, wait: float) -> tuple[bool, bytes]:
    """(whether the server closed ``sock`` within ``wait`` seconds, what it sent)."""
    sock.settimeout(0.05)
    received = b""
    limit = time.monotonic() + wait
    while time.monotonic() < limit:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def _push(base: str, openid: str) -> int:
    sealed = p.seal(p.subscribe(openid, int(time.time())), p.keys_for(EncryptMode.PLAIN))
    response = httpx.post(
        f"{base}/wechat/{p.APPID}", params=sealed.query.to_params(), content=sealed.body
    )
    assert response.status_code != 200 or response.text == SUCCESS
    return response.status_code


SLOW_HEAD = b"POST /wechat HTTP/1.1\r\nHost: x\r\nX-Slow: "


def test_slow_headers_over_the_cap_are_shed_and_time_out(tmp_path: Path) -> None:
    with _serve(tmp_path) as (base, port):
        extra = 12
        first = [_open(port, SLOW_HEAD) for _ in range(extra)]
        time.sleep(0.2)  # the first ones are the oldest
        rest = [_open(port, SLOW_HEAD) for _ in range(CAP - 4)]
        # Over the cap: the oldest connections still sending a request made room.
        shed = sum(_closed_by_server(sock, 0.2)[0] for sock in first)
        assert shed >= extra - 4 - 2, shed  # (the cap counts this side's few others)
        # A fresh push and the health check still get in (each evicting an old one).
        assert _push(base, "o-during") == 200
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        # The rest are closed once the header deadline passes.
        started = time.monotonic()
        survivors = [s for s in rest if not _closed_by_server(s, 0.0)[0]]
        assert all(_closed_by_server(s, HEADER_TIMEOUT + 3)[0] for s in survivors)
        assert time.monotonic() - started < HEADER_TIMEOUT + 3
        for sock in first + rest:
            sock.close()


def test_slow_bodies_are_cut_off(tmp_path: Path) -> None:
    with _serve(tmp_path) as (base, port):
        sealed = p.seal(p.subscribe("o-slow", int(time.time())), p.keys_for(EncryptMode.PLAIN))
        query = httpx.QueryParams(sealed.query.to_params())
        webhook = _open(
            port,
            (
                f"POST /wechat/{p.APPID}?{query} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(sealed.body)}\r\n\r\n"
            ).encode()
            + sealed.body[:10],
        )
        api = [
            _open(
                port,
                b"POST /api/v1/channels HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
            )
            for _ in range(4)
        ]
        # The webhook answers a body that does not arrive by the push deadline: 408.
        closed, answer = _closed_by_server(webhook, PUSH_DEADLINE + KEEPALIVE + 3)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:40]
        assert closed
        # Any other route: the connection is closed at the body deadline at the latest.
        for sock in api:
            assert _closed_by_server(sock, BODY_TIMEOUT + KEEPALIVE + 3)[0]
        assert _push(base, "o-after") == 200
        for sock in [webhook, *api]:
            sock.close()


def test_serve_raises_its_open_files_limit() -> None:
    import resource

    from wxqr.cli.serve import raise_open_files_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft > 1024 and hard != resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # as a default login has
    now = raise_open_files_limit()
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == now
    if hard != resource.RLIM_INFINITY:
        assert now == hard
