"""Request bodies are bounded while they stream, and the API key is checked before them.

Each test talks to a real uvicorn server over a raw socket, so it controls exactly how
much of a body has been sent when it starts waiting for the answer: a server that read
the body whole before answering would never answer these half-sent requests.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.stack import Stack
from wxqr.settings import Settings

PROBLEM = "application/problem+json"
CHUNK = 64 * 1024
MiB = 1024 * 1024


def _connect(stack: Stack) -> socket.socket:
    url = urlsplit(stack.base_url)
    return socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10)


def _head(path: str, headers: dict[str, str], method: str = "POST") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: wxqr.test",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and raw head+body received within the socket's timeout."""
    received = b""
    while b"\r\n\r\n" not in received:
        part = sock.recv(65536)
        if not part:
            break
        received += part
    status_line = received.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 "), received[:200]
    return int(status_line.split()[1]), received


def _send_chunks(sock: socket.socket, total: int) -> int:
    """Send ``total`` bytes of a chunked JSON-ish body (never its last chunk)."""
    sent = 0
    piece = b"[" + b"1," * (CHUNK // 2 - 1) + b"1"
    while sent < total:
        sock.sendall(_chunk(piece))
        sent += len(piece)
    return sent


@pytest.mark.parametrize("key", [None, "wxqr_not_a_key"])
def test_an_unauthenticated_chunked_body_gets_401_before_it_is_read(
    stack: Stack, key: str | None
) -> None:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    if key is not None:
        headers["X-API-Key"] = key
    with _connect(stack) as sock:
        sock.sendall(_head("/api/v1/channels", headers))
        _send_chunks(sock, CHUNK)  # one chunk of a body announced as endless
        status, raw = _answer(sock)
    assert status == 401
    assert PROBLEM.encode() in raw.lower()


def test_an_unauthenticated_huge_declared_body_gets_401_not_413(stack: Stack) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": str(600 * MiB)}
    with _connect(stack) as sock:
        sock.sendall(_head("/api/v1/channels", headers) + b'{"name": ')
        status, _ = _answer(sock)
    assert status == 401


def test_a_declared_length_over_the_limit_is_413_before_any_body(stack: Stack) -> None:
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(600 * MiB),
        "X-API-Key": stack.api_key,
    }
    with _connect(stack) as sock:
        sock.sendall(_head("/api/v1/channels", headers))
        status, raw = _answer(sock)
    assert status == 413
    assert b"1048576 bytes" in raw


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(stack: Stack) -> None:
    headers = {
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        "X-API-Key": stack.api_key,
    }
    with _connect(stack) as sock:
        sock.sendall(_head("/api/v1/channels", headers))
        sent = _send_chunks(sock, MiB + CHUNK)  # past 1 MiB, with no end in sight
        status, raw = _answer(sock)
    assert sent < 2 * MiB
    assert status == 413
    assert PROBLEM.encode() in raw.lower()
    with stack.client() as client:  # nothing was made of the part that was read
        assert client.get("/api/v1/channels").json()["items"] == []


def test_a_body_within_the_limit_is_read_and_judged_on_what_it_holds(stack: Stack) -> None:
    with stack.client() as client:
        big = client.post("/api/v1/channels", json={"name": "x", "payload": "p" * 900_000})
        small = client.post("/api/v1/channels", json={"name": "y", "payload": "p" * 1000})
    assert big.status_code == 422  # the service's payload limit, not the body limit
    assert big.json()["field"] == "payload"
    assert small.status_code == 201, small.text


def test_the_csv_import_has_its_own_larger_limit(stack: Stack) -> None:
    # 1.5 MiB: over the API's 1 MiB but within the import's 10 MiB, so the CSV is read
    # and refused for what it holds (one field past the csv module's limit), not its size.
    csv_text = "name\n" + "a" * (3 * MiB // 2) + "\n"
    with stack.client() as client:
        response = client.post(
            "/api/v1/channels/bulk", content=csv_text, headers={"Content-Type": "text/csv"}
        )
        too_big = client.post(
            "/api/v1/channels/bulk",
            content=b"name\n" + b"a" * (11 * MiB),
            headers={"Content-Type": "text/csv"},
        )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "cannot be read" in response.json()["detail"]
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == PROBLEM


def test_dashboard_forms_are_bounded_too(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        response = client.post(
            "/dashboard/login",
            content=b"password=" + b"x" * (2 * MiB),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413


def test_the_limits_are_settings() -> None:
    settings = Settings.from_env(
        {"WXQR_API_MAX_BODY_BYTES": "2048", "WXQR_IMPORT_MAX_BODY_BYTES": "4096"}
    )
    assert (settings.api_max_body_bytes, settings.import_max_body_bytes) == (2048, 4096)
    defaults = Settings.from_env({})
    assert (defaults.api_max_body_bytes, defaults.import_max_body_bytes) == (MiB, 10 * MiB)
