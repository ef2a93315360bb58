"""Outbound webhooks benchmark: ingest cost of the outbox, and delivery throughput and lag.

    python bench/webhooks.py [--databases sqlite,postgresql] [--duration 10]
                             [--rate 1000] [--sustain 60] [--pg-url URL]

Two parts, each for SQLite and (with ``--pg-url`` or ``WXQR_TEST_POSTGRES_URL``)
PostgreSQL, on loopback:

1. **Ingest with 0 and with 2 endpoints.** ``bench/ingest.py``'s load (signed
   subscribe/SCAN pushes from as many openids as requests, 64 connections, as fast as
   they are answered) against wxqr's webhook served as ``wxqr serve`` serves it (the job
   worker and the delivery worker running), first with no webhook endpoint, then on a
   fresh database with two endpoints subscribed to ``scan`` and ``follow`` (a local
   receiver answering 204). Target: at most 10% fewer pushes/s with the endpoints.
2. **Sustained delivery.** Pushes at a fixed ``--rate`` (open loop) for ``--sustain``
   seconds with two endpoints; the receiver (its own process) notes when each delivery
   arrives. Delivery throughput, and the lag from the push's receipt by wxqr (the body's
   ``timestamp``) to the delivery's receipt: p50/p99. Target: p99 under 2 s, nothing
   failed.

Run by hand; nothing here is a unit test. Figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest  # noqa: E402  (bench/ingest.py: servers, load generators, database setup)

RECEIVER_LOG_EVERY = 0.5


# -- the processes ---------------------------------------------------------------------


def serve(database_url: str, port: int, *, worker: bool = True) -> None:
    """wxqr as ``wxqr serve`` runs it, with the workers on and loopback endpoints allowed
    (``worker=False``: the outbox is written but nothing is delivered)."""
    import uvicorn

    from wxqr.settings import Settings
    from wxqr.web.app import create_serving_app

    settings = Settings(
        database_url=database_url,
        worker_enabled=worker,
        webhook_allow_http=True,
        webhook_allow_private=True,
    )
    app = create_serving_app(settings)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


def _write(path: str, lines: list[str]) -> None:
    Path(path).write_text("".join(lines))


def receive(port: int, out: str) -> None:
    """A receiver answering 204; writes ``message_id timestamp_ms received_ms`` lines."""
    import uvicorn

    lines: list[str] = []

    async def app(scope: Any, receive_: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive_()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    _write(out, lines)
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive_()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        now_ms = int(time.time() * 1000)
        headers = dict(scope["headers"])
        if body:
            document = json.loads(body)
            stamp = datetime.fromisoformat(document["timestamp"].replace("Z", "+00:00"))
            message_id = headers.get(b"webhook-id", b"?").decode()
            lines.append(f"{message_id} {int(stamp.timestamp() * 1000)} {now_ms}\n")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(
        app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning"
    )


# -- the runs --------------------------------------------------------------------------


def _add_endpoints(url: str, receiver: str, count: int) -> None:
    from wxqr.service.webhooks import AddressPolicy, WebhookService
    from wxqr.store.db import make_engine

    engine = make_engine(url)
    service = WebhookService(engine, AddressPolicy(allow_http=True, allow_private=True))
    for n in range(count):
        service.create(f"{receiver}/hook-{n}", ["scan", "follow"])
    engine.dispose()


def _outbox(url: str) -> dict[str, int]:
    from sqlalchemy import text

    from wxqr.store.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, count(*) FROM webhook_deliveries GROUP BY status")
        ).all()
    engine.dispose()
    return {str(status): int(n) for status, n in rows}


class Receiver:
    def __init__(self) -> None:
        self.port = ingest._free_port()
        self.out = tempfile.mktemp(prefix="wxqr-receiver-", suffix=".log")  # noqa: S306
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        script = str(Path(__file__).resolve())
        return [sys.executable, script, "receive", "--port", str(self.port), "--out", self.out]

    def lines(self) -> list[tuple[str, int, int]]:
        found = []
        for line in Path(self.out).read_text().splitlines():
            message_id, stamp, received = line.split()
            found.append((message_id, int(stamp), int(received)))
        return found


@dataclass
class IngestRow:
    database: str
    endpoints: int
    worker: bool
    load: ingest.Load
    outbox: dict[str, int]


def ingest_part(kind: str, args: argparse.Namespace, workdir: Path) -> list[IngestRow]:
    rows = []
    load = ingest.run_wrk if args.generator == "wrk" else ingest.run_python_load
    script = str(Path(__file__).resolve())
    for endpoints, worker in ((0, True), (2, True), (2, False)):
        receiver = Receiver()
        with (
            ingest._database(kind, workdir, args.pg_url, f"hooks{endpoints}{worker:d}") as url,
            ingest._server(receiver.command(), {}, receiver.port, "/"),
        ):
            ingest._prepare_wxqr(url)
            _add_endpoints(url, receiver.url, endpoints)
            port = ingest._free_port()
            command = [sys.executable, script, "serve", "--db", url, "--port", str(port)]
            if not worker:
                command.append("--no-worker")
            with ingest._server(command, {}, port, "/healthz"):
                time.sleep(0.5)
                result = load(
                    f"http://127.0.0.1:{port}/wechat/{ingest.APPID}",
                    args.duration,
                    args.connections,
                    2,
                )
                time.sleep(1.0)
            rows.append(IngestRow(kind, endpoints, worker, result, _outbox(url)))
    return rows


async def _paced(port: int, rate: float, seconds: float, connections: int) -> tuple[int, int]:
    """Open-loop load: push ``rate`` per second for ``seconds`` over ``connections``."""
    ts = str(int(time.time()))
    path = (
        f"/wechat/{ingest.APPID}?signature={ingest._signature(ts)}&timestamp={ts}"
        f"&nonce={ingest.NONCE}"
    )
    start = time.monotonic()
    total = int(rate * seconds)
    sent = ok = 0

    async def client(index: int) -> None:
        nonlocal sent, ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = index
        while n < total:
            due = start + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = ingest._body(f"s{index:03d}{n:09d}", ts, n)
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            writer.write(head + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            sent += 1
            ok += status.split()[1] == b"200"
            n += connections
        writer.close()

    await asyncio.gather(*(client(i) for i in range(connections)))
    return sent, ok


def writer_part(kind: str, args: argparse.Namespace, workdir: Path) -> list[tuple[str, int, float]]:
    """The group commit's own cost per push (``BatchRecorder`` in this process, no HTTP):
    the mean of the fastest half of 60 batches of 300 follows by scan, with 0 and 2
    endpoints. Robust to a busy machine, unlike the HTTP runs."""
    from wxqr.service.accounts import add_account
    from wxqr.service.ingest import BatchRecorder, IncomingPush, JobPolicy
    from wxqr.store.db import make_engine
    from wxqr.store.engines import make_writer_engine
    from wxqr.store.migrate import upgrade

    found = []
    for endpoints in (0, 2, 0, 2):
        with ingest._database(kind, workdir, args.pg_url, f"writer{len(found)}") as url:
            engine = make_engine(url)
            upgrade(engine)
            account = add_account(engine, appid=ingest.APPID, token=ingest.TOKEN)
            _add_endpoints(url, "http://127.0.0.1:9", endpoints)
            writer = make_writer_engine(url)
            recorder = BatchRecorder(writer)
            now = int(time.time())
            times = []
            for batch in range(60):
                items = [
                    IncomingPush(
                        account.id,
                        f"k{batch}-{i}",
                        "subscribe_scan",
                        f"o{batch}-{i}",
                        "gh",
                        "event",
                        "subscribe",
                        "qrscene_1",
                        "1",
                        None,
                        now,
                        now * 1000,
                        None,
                    )
                    for i in range(300)
                ]
                started = time.perf_counter()
                recorder.write([(item, time.monotonic() + 60) for item in items], JobPolicy())
                times.append(time.perf_counter() - started)
            times.sort()
            fastest = times[: len(times) // 2]
            found.append((kind, endpoints, sum(fastest) / len(fastest) / 300 * 1e6))
            writer.dispose()
            engine.dispose()
    return found


@dataclass
class SustainRow:
    database: str
    rate: float
    seconds: float
    sent: int
    answered: int
    expected: int
    received: int
    distinct: int
    delivery_rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    outbox: dict[str, int]


def sustain_part(kind: str, args: argparse.Namespace, workdir: Path) -> SustainRow:
    receiver = Receiver()
    script = str(Path(__file__).resolve())
    with ingest._database(kind, workdir, args.pg_url, "sustain") as url:
        with ingest._server(receiver.command(), {}, receiver.port, "/"):
            ingest._prepare_wxqr(url)
            _add_endpoints(url, receiver.url, 2)
            port = ingest._free_port()
            command = [sys.executable, script, "serve", "--db", url, "--port", str(port)]
            with ingest._server(command, {}, port, "/healthz"):
                time.sleep(0.5)
                sent, answered = asyncio.run(
                    _paced(port, args.rate, args.sustain, args.pace_connections)
                )
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if _outbox(url).get("pending", 0) == 0:
                        break
                    time.sleep(0.5)
                outbox = _outbox(url)
        got = receiver.lines()
    expected = sum(outbox.values())
    lags = sorted(received - stamp for _, stamp, received in got)
    first = min(received for *_, received in got) if got else 0
    last = max(received for *_, received in got) if got else 0

    def pick(q: float) -> float:
        return float(lags[min(len(lags) - 1, int(q * len(lags)))]) if lags else float("nan")

    return SustainRow(
        database=kind,
        rate=args.rate,
        seconds=args.sustain,
        sent=sent,
        answered=answered,
        expected=expected,
        received=len(got),
        distinct=len({(m, s) for m, s, _ in got}),
        delivery_rate=len(got) / max(0.001, (last - first) / 1000),
        p50_ms=pick(0.50),
        p99_ms=pick(0.99),
        max_ms=float(lags[-1]) if lags else float("nan"),
        outbox=outbox,
    )


def print_tables(ingests: list[IngestRow], sustained: list[SustainRow]) -> None:
    print("\nIngest with 0 and 2 subscribed endpoints (pushes/s answered 200)")
    print(
        f"{'database':<11} {'endpoints':>9} {'delivering':>10} {'pushes/s':>9} {'p50 ms':>7} "
        f"{'p99 ms':>7}  deliveries"
    )
    for row in ingests:
        print(
            f"{row.database:<11} {row.endpoints:>9} {'yes' if row.worker else 'no':>10} "
            f"{row.load.rate:>9.0f} {row.load.p50_ms:>7.1f} {row.load.p99_ms:>7.1f}  {row.outbox}"
        )
    groups: dict[tuple[str, int, bool], list[float]] = {}
    for row in ingests:
        groups.setdefault((row.database, row.endpoints, row.worker), []).append(row.load.rate)
    if groups:
        print("\nMedians (runs)        pushes/s   vs 0 endpoints")
        for (database, endpoints, worker), rates in groups.items():
            base = statistics.median(groups.get((database, 0, True), [float("nan")]))
            median = statistics.median(rates)
            label = f"{database} {endpoints} {'delivering' if worker else 'outbox only'}"
            print(f"{label:<24} {median:>8.0f}   {median / base:>6.0%}  ({len(rates)} runs)")
    if sustained:
        print("\nSustained delivery to a local receiver (2 endpoints: scan + follow)")
        print(
            f"{'database':<11} {'rate/s':>7} {'s':>4} {'pushed':>7} {'200':>7} {'rows':>7} "
            f"{'received':>8} {'deliv/s':>8} {'lag p50':>8} {'p99':>7} {'max':>7}  outbox"
        )
        for s in sustained:
            print(
                f"{s.database:<11} {s.rate:>7.0f} {s.seconds:>4.0f} {s.sent:>7} {s.answered:>7} "
                f"{s.expected:>7} {s.received:>8} {s.delivery_rate:>8.0f} {s.p50_ms:>6.0f}ms "
                f"{s.p99_ms:>5.0f}ms {s.max_ms:>5.0f}ms  {s.outbox}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve_cmd = sub.add_parser("serve")
    serve_cmd.add_argument("--db", required=True)
    serve_cmd.add_argument("--port", type=int, required=True)
    serve_cmd.add_argument("--no-worker", action="store_true")
    receive_cmd = sub.add_parser("receive")
    receive_cmd.add_argument("--port", type=int, required=True)
    receive_cmd.add_argument("--out", required=True)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--sustain", type=float, default=60)
    parser.add_argument("--pace-connections", type=int, default=64)
    parser.add_argument("--parts", default="writer,ingest,sustain")
    parser.add_argument(
        "--repeat", type=int, default=1, help="ingest: run the three configurations N times"
    )
    parser.add_argument("--pg-url", default=os.environ.get("WXQR_TEST_POSTGRES_URL"))
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--generator",
        choices=["wrk", "python"],
        default="wrk" if ingest.shutil.which("wrk") else "python",
    )
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.db, args.port, worker=not args.no_worker)
        return
    if args.command == "receive":
        receive(args.port, args.out)
        return
    if args.pg_url and args.pg_url.startswith(("postgres://", "postgresql://")):
        args.pg_url = "postgresql+psycopg://" + args.pg_url.split("://", 1)[1]
    kinds = [k for k in args.databases.split(",") if k == "sqlite" or args.pg_url]
    parts = args.parts.split(",")
    ingests: list[IngestRow] = []
    writers: list[tuple[str, int, float]] = []
    sustained: list[SustainRow] = []
    with tempfile.TemporaryDirectory(prefix="wxqr-bench-hooks-") as tmp:
        for kind in kinds:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            if "ingest" in parts:
                for run in range(args.repeat):  # interleaved: the machine's load drifts
                    rundir = workdir / f"run-{run}"
                    rundir.mkdir()
                    ingests.extend(ingest_part(kind, args, rundir))
            if "writer" in parts:
                writers.extend(writer_part(kind, args, workdir))
            if "sustain" in parts:
                sustained.append(sustain_part(kind, args, workdir))
    if writers:
        print("\nGroup commit per push (BatchRecorder, batches of 300 follows by scan)")
        for database, endpoints, micros in writers:
            print(f"{database:<11} {endpoints} endpoints  {micros:6.1f} µs/push")
    print_tables(ingests, sustained)


if __name__ == "__main__":
    main()
