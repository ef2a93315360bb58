"""Webhook ingest benchmark: wxqr vs a bare endpoint vs the conventional Flask stack.

    python bench/ingest.py [--duration 10] [--connections 64] [--pg-url URL]

For SQLite and (with ``--pg-url`` or ``WXQR_TEST_POSTGRES_URL``) PostgreSQL it drives,
over loopback, for a fixed time, with signed subscribe/SCAN pushes from many openids:

* wxqr — ``/wechat/{appid}`` of wxqr's app on uvicorn (one process, group commit);
* (a) bare — ``/bare/{appid}`` on the same server, served the way the webhook is (plain
  ASGI in front of FastAPI): checks the signature, reads the body, answers success;
* (a+) bare + parse — (a), then the push is opened and classified exactly as wxqr does
  (``open_push`` + ``IngestService.classify``) and answered success, nothing recorded:
  the ceiling of any webhook that parses the push in the serving process;
* (a') bare route — the same work as an ordinary FastAPI route, behind its middleware;
* (b) flask — Flask on gunicorn (4 sync workers), wechatpy's parser, one SQLAlchemy ORM
  insert (one transaction) per push.

The load generator is wrk (``apt-get install wrk``) with a Lua script that makes every
request a different push, each under its own nonce and signature (plain mode: the
signature covers token, timestamp and nonce, and wxqr's replay guard refuses a second
body under one signed query, so the signatures are computed beforehand into a file the
script reads); without wrk a multi-process asyncio generator is used. It prints
events/s, p50/p99 latency, and lost (answered 200 but not stored) and duplicated
(stored twice) counts. Run by hand; nothing here is a unit test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

APPID = "wxbench000000000001"
TOKEN = "bench-token"
ORIGINAL_ID = "gh_bench0000001"
SCENES = 100
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _signed_nonce(timestamp: str, nonce: str) -> str:
    import hashlib

    return hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()  # noqa: S324


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(port: int, path: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int, probe: str) -> Iterator[None]:
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    try:
        _wait_http(port, probe, process)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Base(DeclarativeBase):
    pass


class Event(Base):
    """(b)'s ORM model: one row per push, unique like wxqr's dedup key."""

    __tablename__ = "flask_events"
    __table_args__ = (UniqueConstraint("openid", "create_time", "event", "event_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(256))
    create_time: Mapped[int]
    raw_xml: Mapped[str] = mapped_column(Text)


# -- the servers ----------------------------------------------------------------------


def _start_folding(database_url: str) -> None:
    """Fold the stats queue every FOLD_EVERY_SECONDS in a thread, as the serve's worker does."""
    import threading

    from wxqr.service.stats.rollups import FOLD_EVERY_SECONDS, StatsRollups
    from wxqr.store.engines import make_writer_engine

    rollups = StatsRollups(make_writer_engine(database_url))

    def run() -> None:
        while True:
            time.sleep(FOLD_EVERY_SECONDS)
            try:
                rollups.build_missing()
                rollups.catch_up()
            except Exception as exc:  # as the worker does: log, go on
                print(f"fold failed: {exc!r}", file=sys.stderr)

    threading.Thread(target=run, name="bench-fold", daemon=True).start()


def serve_wxqr(database_url: str, port: int) -> None:
    """wxqr's app plus the bare endpoints (a), on uvicorn with uvloop and httptools.

    ``/bare/{appid}`` is served the way wxqr serves its webhook (a plain ASGI handler in
    front of FastAPI, the same query, body and account-cache helpers): the strict ceiling
    of wxqr's own path. ``/bare-route/{appid}`` is the same work as an ordinary route
    behind FastAPI's routing and middleware, for comparison.
    """
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from wxqr.protocol import PushQuery, open_push, verify_signature
    from wxqr.settings import Settings
    from wxqr.web.app import create_serving_app
    from wxqr.web.webhook import parse_query, query_signed, read_body, send_answer

    settings = Settings(database_url=database_url, worker_enabled=False)
    app = create_serving_app(settings)  # as `wxqr serve` builds it, heap settled
    if os.environ.get("BENCH_ROLLUPS") == "fold":
        _start_folding(database_url)
    ingest = app.state.ingest

    async def bare_route(request: Request) -> Response:
        known = await ingest.account(request.path_params["appid"])
        if known is None:
            return PlainTextResponse("unknown account", status_code=404)
        if not query_signed(known.keys.token, request.query_params):
            return PlainTextResponse("forbidden", status_code=403)
        await request.body()
        return PlainTextResponse("success")

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        known = await ingest.account(scope["path"].rsplit("/", 1)[1])
        if known is None:
            await send_answer(send, 404, b"unknown account")
            return
        if not query_signed(known.keys.token, parse_query(scope["query_string"])):
            await send_answer(send, 403, b"forbidden")
            return
        await read_body(scope, receive, settings.max_body_bytes)
        await send_answer(send, 200, b"success")

    async def bare_parse(scope: Any, receive: Any, send: Any) -> None:
        known = await ingest.account(scope["path"].rsplit("/", 1)[1])
        if known is None:
            await send_answer(send, 404, b"unknown account")
            return
        query = PushQuery.from_params(parse_query(scope["query_string"]))
        try:
            verify_signature(known.keys.token, query.timestamp, query.nonce, query.signature)
            body = await read_body(scope, receive, settings.max_body_bytes)
            opened = open_push(
                body,
                query,
                known.keys,
                max_age=settings.push_max_age_seconds,
                max_bytes=settings.max_body_bytes,
            )
            ingest.classify(known, opened)
        except Exception:
            await send_answer(send, 400, b"bad request")
            return
        await send_answer(send, 200, b"success")

    async def server(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/bare/"):
            await bare(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith("/bare-parse/"):
            await bare_parse(scope, receive, send)
        else:
            await app(scope, receive, send)

    app.router.routes.insert(0, Route("/bare-route/{appid}", bare_route, methods=["POST"]))
    uvicorn.run(
        server,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


def create_flask_app() -> Any:
    """(b) The conventional stack: Flask, wechatpy's parser, one ORM insert per push."""
    from flask import Flask, abort, request
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session
    from wechatpy import parse_message
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature

    url = os.environ["BENCH_FLASK_DB"]
    engine = create_engine(url, pool_size=2) if url.startswith("postgresql") else None
    if engine is None:
        engine = create_engine(url, connect_args={"timeout": 5})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    if os.environ.get("BENCH_FLASK_CREATE"):
        Base.metadata.create_all(engine)
        return None

    app = Flask("bench_flask")

    @app.post("/wechat/<appid>")
    def wechat(appid: str) -> str:
        args = request.args
        try:
            check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"])
        except (InvalidSignatureException, KeyError):
            abort(403)
        body = request.get_data()
        message = parse_message(body)
        with Session(engine) as session:
            session.add(
                Event(
                    openid=message.source,
                    event=getattr(message, "event", ""),
                    event_key=getattr(message, "key", "") or "",
                    create_time=int(message.create_time.timestamp()),
                    raw_xml=body.decode(),
                )
            )
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
        return "success"

    return app


# -- the load generators --------------------------------------------------------------

LUA = r"""
local counter = 0
local tid = 0
local threads = 0
local ts = os.getenv("BENCH_TS")
local base = os.getenv("BENCH_PATH")
local queries = {}
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  tid = tonumber(wrk.thread:get("tid"))
  local total = tonumber(os.getenv("BENCH_THREADS"))
  wrk.headers["Content-Type"] = "text/xml"
  local i = 0
  for line in io.lines(os.getenv("BENCH_NONCES")) do
    if i % total == tid - 1 then
      local nonce, sig = line:match("(%S+) (%S+)")
      queries[#queries + 1] = base .. "?signature=" .. sig .. "&timestamp=" .. ts
        .. "&nonce=" .. nonce
    end
    i = i + 1
  end
end
function request()
  counter = counter + 1
  local path = queries[(counter - 1) % #queries + 1]
  local openid = string.format("o%02d%010d", tid, counter)
  local body
  if counter % 3 == 0 then
    body = "<xml><ToUserName><![CDATA[gh_bench0000001]]></ToUserName><FromUserName><![CDATA["
      .. openid .. "]]></FromUserName><CreateTime>" .. ts ..
      "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event>" ..
      "<EventKey><![CDATA[" .. (counter % 100 + 1) .. "]]></EventKey>" ..
      "<Ticket><![CDATA[TICKET]]></Ticket></xml>"
  else
    body = "<xml><ToUserName><![CDATA[gh_bench0000001]]></ToUserName><FromUserName><![CDATA["
      .. openid .. "]]></FromUserName><CreateTime>" .. ts ..
      "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>" ..
      "<EventKey><![CDATA[qrscene_" .. (counter % 100 + 1) .. "]]></EventKey>" ..
      "<Ticket><![CDATA[TICKET]]></Ticket></xml>"
  end
  return wrk.format("POST", path, nil, body)
end
"""


@dataclass
class Load:
    requests: int
    non_2xx: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def answered_ok(self) -> int:
        return self.requests - self.non_2xx

    @property
    def rate(self) -> float:
        return self.answered_ok / self.seconds


def _ms(text: str) -> float:
    value = float(re.sub(r"[a-z]+$", "", text))
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("m"):
        return value * 60_000
    return value * 1000  # seconds


def run_wrk(url: str, duration: float, connections: int, threads: int) -> Load:
    from urllib.parse import urlsplit

    timestamp = str(int(time.time()))
    target = url
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as nonces:
        for n in range(int(duration * 40_000) + 1000):  # more than any run sends
            nonces.write(f"n{n} {_signed_nonce(timestamp, f'n{n}')}\n")
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(duration)}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        script.name,
        target,
    ]
    output = subprocess.run(
        command,
        env={
            **os.environ,
            "BENCH_TS": timestamp,
            "BENCH_PATH": urlsplit(url).path,
            "BENCH_NONCES": nonces.name,
            "BENCH_THREADS": str(threads),
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    os.unlink(nonces.name)
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))  # type: ignore[union-attr]
    seconds = duration
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    return Load(
        requests=requests,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        seconds=seconds,
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
    )


def _body(openid: str, ts: str, n: int) -> bytes:
    scene = n % SCENES + 1
    if n % 3 == 0:
        event, key = "SCAN", str(scene)
    else:
        event, key = "subscribe", f"qrscene_{scene}"
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{ts}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>"
    ).encode()


async def _py_client(
    host: str,
    port: int,
    path: str,
    ts: str,
    worker: int,
    conn: int,
    until: float,
    out: list[tuple[int, float]],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    while time.monotonic() < until:
        n += 1
        body = _body(f"p{worker:02d}{conn:03d}{n:08d}", ts, n)
        nonce = f"{worker}-{conn}-{n}"
        query = f"signature={_signed_nonce(ts, nonce)}&timestamp={ts}&nonce={nonce}"
        head = (
            f"POST {path}?{query} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        try:
            writer.write(head + body)
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            out.append((int(status_line.split()[1]), time.perf_counter() - started))
        except (ConnectionError, asyncio.IncompleteReadError):
            out.append((0, time.perf_counter() - started))
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
    writer.close()


def _py_worker(args: tuple[str, int, str, str, int, int, float]) -> list[tuple[int, float]]:
    host, port, path, ts, worker, connections, until = args
    out: list[tuple[int, float]] = []

    async def main() -> None:
        await asyncio.gather(
            *(_py_client(host, port, path, ts, worker, c, until, out) for c in range(connections))
        )

    asyncio.run(main())
    return out


def run_python_load(url: str, duration: float, connections: int, processes: int) -> Load:
    """Fallback generator: ``processes`` processes of asyncio keep-alive connections."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    ts = str(int(time.time()))
    path = parts.path  # each request signs its own nonce (the replay guard)
    until = time.monotonic() + duration
    per = max(1, connections // processes)
    jobs = [
        (parts.hostname or "", parts.port or 80, path, ts, w, per, until) for w in range(processes)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = [r for chunk in pool.map(_py_worker, jobs) for r in chunk]
    latencies = sorted(lat for status, lat in results if status == 200)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return Load(
        requests=len(results),
        non_2xx=sum(1 for status, _ in results if status != 200),
        errors=sum(1 for status, _ in results if status == 0),
        seconds=duration,
        p50_ms=pick(0.50) if latencies else float("nan"),
        p99_ms=pick(0.99) if latencies else float("nan"),
    )


# -- the runs ---------------------------------------------------------------------------


@dataclass
class Row:
    database: str
    stack: str
    load: Load
    stored: int | None
    duplicated: int | None
    run: int = 1

    @property
    def lost(self) -> int | None:
        return None if self.stored is None else max(0, self.load.answered_ok - self.stored)


def _prepare_wxqr(url: str, mode: str = "fold") -> None:
    from wxqr.service.accounts import add_account
    from wxqr.store import tables as t
    from wxqr.store.db import make_engine
    from wxqr.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    if mode == "off":  # the ingest as it was before the rollups: no queue trigger
        with engine.begin() as conn:
            for statement in t.STATS_PENDING_DROP[conn.dialect.name]:
                conn.exec_driver_sql(statement)
    account = add_account(engine, appid=APPID, token=TOKEN)
    now = int(time.time())
    with engine.begin() as conn:
        channel_ids = []
        for c in range(10):
            result = conn.execute(
                t.channels.insert().values(
                    account_id=account.id,
                    name=f"channel-{c}",
                    tags=[],
                    follower_tags=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            channel_ids.append(result.inserted_primary_key[0])  # type: ignore[index]
        conn.execute(
            t.scenes.insert(),
            [
                {
                    "account_id": account.id,
                    "channel_id": channel_ids[s % 10],
                    "scene": str(s),
                    "scene_type": "id",
                    "qr_kind": "permanent",
                    "created_at": now,
                }
                for s in range(1, SCENES + 1)
            ],
        )
    engine.dispose()


def _count(url: str, table: str, key: str) -> tuple[int, int]:
    from sqlalchemy import text

    from wxqr.store.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
        distinct = conn.execute(text(f"SELECT count(DISTINCT {key}) FROM {table}")).scalar_one()  # noqa: S608
    engine.dispose()
    return int(total), int(distinct)


@contextmanager
def _database(kind: str, workdir: Path, pg_url: str | None, name: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / (name + '.sqlite3')}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    assert pg_url is not None
    db = f"wxqr_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        yield make_url(pg_url).set(database=db).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def bench_database(kind: str, args: argparse.Namespace, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    modes = args.rollups.split(",")
    for mode in modes:
        rows += _bench_wxqr(kind, args, workdir, mode, bare=mode == modes[-1])
    if "flask" not in args.stacks:
        return rows
    return rows + _bench_flask(kind, args, workdir)


def _bench_wxqr(
    kind: str, args: argparse.Namespace, workdir: Path, mode: str, *, bare: bool
) -> list[Row]:
    """wxqr (and, with ``bare``, the bare endpoints) with the stats rollups in ``mode``:
    ``off`` (the queue trigger dropped: the ingest of before the rollups), ``queue`` (the
    trigger only) or ``fold`` (the trigger, and the serve folding the queue every second
    as its background worker does)."""
    rows: list[Row] = []
    load = run_wrk if args.generator == "wrk" else run_python_load
    threads = 2  # wrk threads, or generator processes
    script = str(Path(__file__).resolve())
    name = f"wxqr_{mode}_{uuid.uuid4().hex[:6]}"
    with _database(kind, workdir, args.pg_url, name) as url:
        _prepare_wxqr(url, mode)
        port = _free_port()
        command = [sys.executable, script, "serve-wxqr", "--db", url, "--port", str(port)]
        with _server(command, {"BENCH_ROLLUPS": mode}, port, "/healthz"):
            time.sleep(0.5)
            base = f"http://127.0.0.1:{port}"
            if "wxqr" in args.stacks:
                wxqr_load = load(f"{base}/wechat/{APPID}", args.duration, args.connections, threads)
                time.sleep(1.0)  # let the last batch commit
                total, distinct = _count(url, "events", "dedup_key")
                rows.append(
                    Row(kind, f"wxqr (rollups {mode})", wxqr_load, distinct, total - distinct)
                )
            if bare and "bare" in args.stacks.split(","):
                bare_load = load(f"{base}/bare/{APPID}", args.duration, args.connections, threads)
                rows.append(Row(kind, "(a) bare endpoint", bare_load, None, None))
            if bare and "bare-parse" in args.stacks.split(","):
                parse = load(f"{base}/bare-parse/{APPID}", args.duration, args.connections, threads)
                rows.append(Row(kind, "(a+) bare endpoint + parse", parse, None, None))
            if bare and "bare-route" in args.stacks.split(","):
                route = load(f"{base}/bare-route/{APPID}", args.duration, args.connections, threads)
                rows.append(Row(kind, "(a') bare FastAPI route", route, None, None))
    return rows


def _bench_flask(kind: str, args: argparse.Namespace, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    load = run_wrk if args.generator == "wrk" else run_python_load
    threads = 2
    with _database(kind, workdir, args.pg_url, "flask") as url:
        env = {"BENCH_FLASK_DB": url, "PYTHONPATH": str(HERE)}
        subprocess.run(
            [sys.executable, "-c", "import ingest; ingest.create_flask_app()"],
            env={**os.environ, **env, "BENCH_FLASK_CREATE": "1"},
            cwd=HERE,
            check=True,
        )
        port = _free_port()
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(HERE),
            "-w",
            str(args.flask_workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "ingest:create_flask_app()",
        ]
        with _server(gunicorn, env, port, "/"):
            flask_load = load(
                f"http://127.0.0.1:{port}/wechat/{APPID}", args.duration, args.connections, threads
            )
            time.sleep(1.0)
            total, distinct = _count(url, "flask_events", "openid || '/' || event")
            rows.append(Row(kind, "(b) flask+gunicorn", flask_load, distinct, total - distinct))
    return rows


def _spread(values: list[float], fmt: str) -> str:
    """The median of ``values``, and their range when there are several."""
    middle = statistics.median(values)
    if len(values) == 1:
        return format(middle, fmt)
    return f"{middle:{fmt}} (runs: {min(values):{fmt}} to {max(values):{fmt}})"


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    print(
        f"\n{args.duration:g} s per run, {args.connections} connections, loopback, "
        f"generator {args.generator}, {os.cpu_count()} cores, {args.repeat} run(s)\n"
    )
    columns = (
        "run",
        "database",
        "stack",
        "events/s",
        "p50 ms",
        "p99 ms",
        "answered 200",
        "stored",
        "lost",
        "duplicated",
        "non-2xx/errors",
    )
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        fmt = lambda v: "-" if v is None else str(v)  # noqa: E731
        print(
            f"| {row.run} | {row.database} | {row.stack} | {row.load.rate:,.0f} | "
            f"{row.load.p50_ms:.1f} | {row.load.p99_ms:.1f} | {row.load.answered_ok} | "
            f"{fmt(row.stored)} | {fmt(row.lost)} | {fmt(row.duplicated)} | "
            f"{row.load.non_2xx}/{row.load.errors} |"
        )
    print()
    # Ratios are taken within a run (its stacks share the machine's state of the moment),
    # then summarised over the runs: on a small VM one run's rates vary by about 10%.
    comparisons = (
        ("(a) bare endpoint", " of (a) (target >= 60%)", ".0%"),
        ("(a+) bare endpoint + parse", " of (a+)", ".0%"),
        ("(a') bare FastAPI route", " of (a')", ".0%"),
        ("(b) flask+gunicorn", "x (b) (target >= 3x)", ".1f"),
    )
    for database in dict.fromkeys(r.database for r in rows):
        ratios: dict[str, list[float]] = {stack: [] for stack, _, _ in comparisons}
        p99s: list[float] = []
        for run in sorted({r.run for r in rows}):
            by = {r.stack: r for r in rows if r.database == database and r.run == run}
            if "wxqr" not in by:
                continue
            p99s.append(by["wxqr"].load.p99_ms)
            for stack in ratios:
                if stack in by:
                    ratios[stack].append(by["wxqr"].load.rate / max(by[stack].load.rate, 1))
        parts = [
            _spread(ratios[stack], fmt) + label
            for stack, label, fmt in comparisons
            if ratios[stack]
        ]
        if p99s:
            parts.append(f"p99 {_spread(p99s, '.1f')} ms (target < 100 ms)")
        if parts:
            print(f"{database}: wxqr = " + ", ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve-wxqr")
    serve.add_argument("--db", required=True)
    serve.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--flask-workers", type=int, default=4)
    parser.add_argument("--pg-url", default=os.environ.get("WXQR_TEST_POSTGRES_URL"))
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--stacks",
        default="wxqr,bare,bare-route,flask",
        help="which of wxqr,bare,bare-parse,bare-route,flask to run",
    )
    parser.add_argument(
        "--generator", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run everything this many times (fresh servers)"
    )
    parser.add_argument(
        "--rollups",
        default="off,fold",
        help="stats rollup modes to run wxqr in: off (no queue), queue, fold (comma list)",
    )
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    if args.command == "serve-wxqr":
        serve_wxqr(args.db, args.port)
        return
    if args.pg_url and args.pg_url.startswith(("postgres://", "postgresql://")):
        args.pg_url = "postgresql+psycopg://" + args.pg_url.split("://", 1)[1]
    kinds = [k for k in args.databases.split(",") if k == "sqlite" or args.pg_url]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="wxqr-bench-") as tmp:
        for run in range(1, args.repeat + 1):
            workdir = Path(tmp) / f"run-{run}"  # fresh SQLite files every run
            workdir.mkdir()
            for kind in kinds:
                for row in bench_database(kind, args, workdir):
                    row.run = run
                    rows.append(row)
    print_table(rows, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps([{**row.__dict__, "load": row.load.__dict__} for row in rows], indent=2)
        )


if __name__ == "__main__":
    main()
