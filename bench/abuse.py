"""Replay issue 14's high and medium attacks against a live ``wxqr serve`` and report.

    python bench/abuse.py [--connections 200] [--seconds 8] [--attempts 50]

Starts the offline WeChat emulator and ``wxqr serve`` on a temporary SQLite database
(loopback only; two accounts: A in plain mode, B in compatible mode; an admin password;
one API key), then runs each attack for at most ``--seconds`` with at most
``--connections`` sockets or ``--attempts`` requests, while a prober sends genuine
pushes to account A every 20 ms. It prints one row per attack: attempts, answers by
status (``closed``: the server closed the connection without an answer; ``open``:
still unanswered when the attack stopped), what the attack got stored, the server's RSS
before and after, and the prober's p99 latency and failures during the attack.

It reports what the server does; it asserts nothing (some defences are built
elsewhere). Run by hand; nothing here is a unit test.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from wxqr.emulator.testing import EmulatorAccount, running_emulator
from wxqr.protocol import AccountKeys, EncryptMode, PushQuery, seal_push, signature
from wxqr.service.accounts import add_account
from wxqr.service.admin import AdminAuth
from wxqr.service.apikeys import ApiKeyService
from wxqr.store import tables as t
from wxqr.store.db import make_engine
from wxqr.store.migrate import upgrade

APPID_A = "wxabuse0000000000a"
APPID_B = "wxabuse0000000000b"
TOKEN_A = "abuse-token-a"
TOKEN_B = "abuse-token-b"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ORIGINAL_ID = "gh_abuse000001"
PASSWORD = "correct horse battery staple"
SERVE = (sys.executable, "-c", "from wxqr.cli.main import main; main()", "serve")


@dataclass
class Server:
    base: str
    port: int
    pid: int
    engine: Engine
    api_key: str


@dataclass
class Outcome:
    attempts: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    stored: str = "-"
    note: str = ""


def _xml(openid: str, create_time: int | str, event: str = "subscribe", key: str = "") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


def _keys(appid: str, token: str, mode: EncryptMode = EncryptMode.PLAIN) -> AccountKeys:
    return AccountKeys(appid, token, None if mode is EncryptMode.PLAIN else AES_KEY, mode)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _events_like(engine: Engine, prefix: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(t.events).where(t.events.c.openid.like(prefix))
        return int(conn.execute(query).scalar_one())


def _channels(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.channels)).scalar_one())


def _status_of(sock: socket.socket, wait: float) -> str:
    """The status the server answered on ``sock``, ``closed`` or ``open``."""
    sock.settimeout(0.05 if wait else 0.001)
    data = b""
    limit = time.monotonic() + max(wait, 0.001)
    while time.monotonic() < limit:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n" in data:
            break
    else:
        return "open" if not data else data.split()[1].decode()
    return data.split()[1].decode() if data.startswith(b"HTTP/") else "closed"


def _post(client: httpx.Client, appid: str, query: PushQuery, body: bytes) -> str:
    try:
        response = client.post(f"/wechat/{appid}", params=query.to_params(), content=body)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return str(response.status_code)


# -- the attacks --------------------------------------------------------------------------


def chunked_body(server: Server, args: argparse.Namespace) -> Outcome:
    """An endless chunked body to /api/v1/channels without an API key."""
    outcome = Outcome(attempts=4)
    before = _channels(server.engine)
    socks = []
    sent = 0
    for _ in range(outcome.attempts):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(
            b"POST /api/v1/channels HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        socks.append(sock)
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    until = time.monotonic() + args.seconds
    live = list(socks)
    while live and time.monotonic() < until and sent < 512 * 2**20:
        for sock in list(live):
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except OSError:
                live.remove(sock)
    for sock in socks:
        outcome.answers[_status_of(sock, 1.0)] += 1
        sock.close()
    outcome.stored = f"{_channels(server.engine) - before} channels"
    outcome.note = f"{sent / 2**20:.0f} MiB sent"
    return outcome


def _slow(server: Server, args: argparse.Namespace, head: bytes, drip: bytes) -> Outcome:
    outcome = Outcome(attempts=args.connections)
    socks: list[socket.socket] = []
    for _ in range(args.connections):
        try:
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(head)
            socks.append(sock)
        except OSError as exc:
            outcome.answers[type(exc).__name__] += 1
    until = time.monotonic() + args.seconds
    while time.monotonic() < until:
        for sock in socks:
            with suppress(OSError):
                sock.sendall(drip)
        time.sleep(1.0)
    # One snapshot of every connection at the end of the attack (not one after another).
    for sock in socks:
        outcome.answers[_status_of(sock, 0.0)] += 1
    for sock in socks:
        sock.close()
    return outcome


def slow_headers(server: Server, args: argparse.Namespace) -> Outcome:
    """``--connections`` connections sending their headers one byte a second."""
    return _slow(server, args, b"POST /wechat HTTP/1.1\r\nHost: x\r\nX-A: ", b"a")


def slow_bodies(server: Server, args: argparse.Namespace) -> Outcome:
    """``--connections`` pushes whose 1000-byte body comes one byte a second."""
    sealed = seal_push(_xml("o-slow", int(time.time())), _keys(APPID_A, TOKEN_A))
    query = httpx.QueryParams(sealed.query.to_params())
    head = (
        f"POST /wechat/{APPID_A}?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    return _slow(server, args, head, b"<")


def forged_pushes(server: Server, args: argparse.Namespace) -> Outcome:
    """One genuine plain-mode push captured, its signed query replayed with other bodies."""
    now = int(time.time())
    genuine = seal_push(_xml("o-genuine", now), _keys(APPID_A, TOKEN_A), timestamp=now)
    outcome = Outcome(attempts=args.attempts)
    with httpx.Client(base_url=server.base, timeout=10) as client:
        outcome.note = f"genuine: {_post(client, APPID_A, genuine.query, genuine.body)}"
        for n in range(args.attempts):
            forged = _xml(f"o-forged-{n}", now).encode()
            outcome.answers[_post(client, APPID_A, genuine.query, forged)] += 1
    outcome.stored = f"{_events_like(server.engine, 'o-forged-%')} events"
    return outcome


def downgrade(server: Server, args: argparse.Namespace) -> Outcome:
    """Plaintext pushes, correctly signed, to the compatible-mode account B."""
    outcome = Outcome(attempts=args.attempts)
    with httpx.Client(base_url=server.base, timeout=10) as client:
        for n in range(args.attempts):
            sealed = seal_push(_xml(f"o-downgrade-{n}", int(time.time())), _keys(APPID_B, TOKEN_B))
            outcome.answers[_post(client, APPID_B, sealed.query, sealed.body)] += 1
    outcome.stored = f"{_events_like(server.engine, 'o-downgrade-%')} events"
    return outcome


def poison_create_time(server: Server, args: argparse.Namespace) -> Outcome:
    """Signed pushes whose CreateTime is absurd (int64 max, 1e30, 4,400 digits, 1970)."""
    values = ["9223372036854775807", str(10**30), "9" * 4400, "1"]
    outcome = Outcome(attempts=args.attempts)
    with httpx.Client(base_url=server.base, timeout=10) as client:
        for n in range(args.attempts):
            xml = _xml(f"o-poison-{n}", values[n % len(values)])
            sealed = seal_push(xml, _keys(APPID_A, TOKEN_A))
            outcome.answers[_post(client, APPID_A, sealed.query, sealed.body)] += 1
    outcome.stored = f"{_events_like(server.engine, 'o-poison-%')} events"
    return outcome


def cross_account_push(server: Server, args: argparse.Namespace) -> Outcome:
    """Pushes to account B's URL signed with account A's token."""
    outcome = Outcome(attempts=args.attempts)
    with httpx.Client(base_url=server.base, timeout=10) as client:
        for n in range(args.attempts):
            ts, nonce = str(int(time.time())), str(n)
            query = PushQuery(signature(TOKEN_A, ts, nonce), ts, nonce)
            body = _xml(f"o-cross-{n}", ts).encode()
            outcome.answers[_post(client, APPID_B, query, body)] += 1
    outcome.stored = f"{_events_like(server.engine, 'o-cross-%')} events"
    return outcome


def cross_account_key(server: Server, args: argparse.Namespace) -> Outcome:
    """The API key made for account A reading and writing account B's channels."""
    outcome = Outcome(attempts=args.attempts)
    before = _channels(server.engine)
    headers = {"X-API-Key": server.api_key}
    with httpx.Client(base_url=server.base, timeout=10, headers=headers) as client:
        for n in range(args.attempts):
            if n % 2:
                response = client.get("/api/v1/channels", params={"account": APPID_B})
            else:
                body = {"account": APPID_B, "name": f"cross-{n}"}
                response = client.post("/api/v1/channels", json=body)
            outcome.answers[str(response.status_code)] += 1
    outcome.stored = f"{_channels(server.engine) - before} channels"
    return outcome


def xff_login(server: Server, args: argparse.Namespace) -> Outcome:
    """Wrong dashboard passwords, each from a different X-Forwarded-For address."""
    outcome = Outcome(attempts=args.attempts)
    with httpx.Client(base_url=server.base, timeout=30) as client:
        for n in range(args.attempts):
            response = client.post(
                "/dashboard/login",
                data={"password": f"guess-{n}"},
                headers={"X-Forwarded-For": f"198.51.100.{n % 250 + 1}"},
            )
            outcome.answers[str(response.status_code)] += 1
    return outcome


ATTACKS: list[tuple[str, Callable[[Server, argparse.Namespace], Outcome]]] = [
    ("unbounded chunked body, no key", chunked_body),
    ("slow headers", slow_headers),
    ("slow bodies (webhook)", slow_bodies),
    ("forged plain pushes, captured query", forged_pushes),
    ("compatible-mode plaintext downgrade", downgrade),
    ("poison CreateTime", poison_create_time),
    ("cross-account push signature", cross_account_push),
    ("cross-account API key", cross_account_key),
    ("X-Forwarded-For rotation on login", xff_login),
]


# -- the prober and the server ------------------------------------------------------------


class Prober:
    """Genuine pushes to account A every 20 ms, timed."""

    def __init__(self, base: str) -> None:
        self._base = base
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        keys = _keys(APPID_A, TOKEN_A)
        n = 0
        with httpx.Client(base_url=self._base, timeout=10) as client:
            while not self._stop.is_set():
                n += 1
                sealed = seal_push(_xml(f"o-probe-{time.time_ns()}-{n}", int(time.time())), keys)
                started = time.perf_counter()
                status = _post(client, APPID_A, sealed.query, sealed.body)
                self.latencies.append(time.perf_counter() - started)
                if status != "200":
                    self.failures += 1
                self._stop.wait(0.02)

    @property
    def p99_ms(self) -> float:
        if len(self.latencies) < 2:
            return max(self.latencies, default=float("nan")) * 1000
        return statistics.quantiles(self.latencies, n=100)[98] * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(workdir: Path) -> Iterator[Server]:
    url = f"sqlite:///{workdir / 'abuse.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    add_account(engine, appid=APPID_B, token=TOKEN_B, aes_key=AES_KEY, encrypt_mode="compatible")
    AdminAuth(engine).set_password(PASSWORD)
    # Account A is also configured by environment below (the server keeps it in sync).
    add_account(engine, appid=APPID_A, token=TOKEN_A)
    api_key = ApiKeyService(engine).create("abuse-a", accounts=[APPID_A]).secret
    accounts = [
        EmulatorAccount(appid=APPID_A, token=TOKEN_A, original_id=ORIGINAL_ID),
        EmulatorAccount(appid=APPID_B, token=TOKEN_B, original_id=ORIGINAL_ID),
    ]
    port = _free_port()
    with running_emulator(accounts=accounts) as emulator:
        env = {
            **os.environ,
            "WXQR_DATABASE_URL": url,
            "WXQR_APPID": APPID_A,
            "WXQR_TOKEN": TOKEN_A,
            "WXQR_APP_SECRET": accounts[0].secret,
            "WXQR_WECHAT_API_BASE": emulator.base_url,
            "WXQR_FETCH_USER_INFO": "0",
        }
        process = subprocess.Popen(
            [*SERVE, "--port", str(port), "--log-level", "error"], env=env, cwd=workdir
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, process)
            yield Server(base, port, process.pid, engine, api_key)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
            engine.dispose()


def _wait_healthy(base: str, process: subprocess.Popen[Any]) -> None:
    limit = time.monotonic() + 30
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise SystemExit("wxqr serve exited")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("wxqr serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200, help="slow connections")
    parser.add_argument(
        "--seconds", type=float, default=12.0, help="per connection attack (> the deadlines)"
    )
    parser.add_argument("--attempts", type=int, default=50, help="requests per attack")
    parser.add_argument("--only", default="", help="run attacks whose name has this text")
    args = parser.parse_args()
    args.connections = min(args.connections, 2000)
    args.attempts = min(args.attempts, 1000)
    args.seconds = min(args.seconds, 60.0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp)) as server:
        for name, attack in ATTACKS:
            if args.only and args.only not in name:
                continue
            rss_before = _rss_mib(server.pid)
            with Prober(server.base) as prober:
                outcome = attack(server, args)
            rss_after = _rss_mib(server.pid)
            rows.append((name, outcome, rss_before, rss_after, prober))
            print(f"done: {name}", file=sys.stderr)
    header = (
        "| attack | attempts | answers | stored | RSS MiB before → after "
        "| webhook p99 ms (failed) | note |"
    )
    print(header)
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, outcome, before, after, prober in rows:
        answers = ", ".join(f"{k}×{v}" for k, v in sorted(outcome.answers.items()))
        print(
            f"| {name} | {outcome.attempts} | {answers} | {outcome.stored} "
            f"| {before:.0f} → {after:.0f} | {prober.p99_ms:.1f} ({prober.failures}) "
            f"| {outcome.note} |"
        )


if __name__ == "__main__":
    main()
