"""Stats query speed on a big event log: SQLite and PostgreSQL, exact unique scanners.

    python bench/stats.py [--events 10000000] [--channels 1000] [--days 365]
                          [--sqlite PATH] [--postgres URL] [--reuse] [--keep] [--explain]

Generates one account with ``--channels`` channels (popularity Zipf-like) and ``--events``
events over ``--days`` days ending 2024-12-31 (Asia/Shanghai) by simulating users: a user
who is not following scans a channel's code and follows (85 %; 2 % of those on unknown
scenes: orphans) or follows plainly; a follower scans (70 %; 1 % orphans), sends a message
(15 %) or unfollows (15 %; first-touch channel stored as the ingest does). CreateTime
jitters by up to a minute (out-of-order arrival). The log is bulk-loaded into SQLite
(executemany, indexes built after) and PostgreSQL (COPY, then VACUUM ANALYZE), then the
service's own queries are timed (median of ``--repeat`` runs after one warm-up):

- the account summary over the last 90 days;
- one channel's daily series over 90 days (the busiest channel and a median one);
- the per-channel table over 90 days (the dashboard's channel list);
- the account's daily series over 90 days and over the 90 days before (compare=
  previous_period is these two series), and the per-group table.

The stats rollups are built from the loaded log first (``wxqr stats rebuild``; timed);
the queries are answered from them (``--log``: also from the log alone).

PostgreSQL: ``--postgres`` (default ``WXQR_TEST_POSTGRES_URL``) names the server; the bench
creates its own database (``--pg-database``) and drops it afterwards unless ``--keep``.
``--reuse`` skips loading when the databases already hold the log.
"""

from __future__ import annotations

import argparse
import bisect
import io
import itertools
import os
import random
import sqlite3
import statistics
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex

from wxqr.service.stats import StatsService, Window
from wxqr.service.stats._sql import Scope, metric_query
from wxqr.service.stats.rollups import StatsRollups
from wxqr.store.db import make_engine
from wxqr.store.tables import (
    STATS_PENDING_DDL,
    STATS_PENDING_DROP,
    accounts,
    channels,
    events,
    metadata,
    scenes,
)

TZ = "Asia/Shanghai"
LAST_DAY = date(2024, 12, 31)
END_S = 1_735_660_800  # 2025-01-01 00:00 Asia/Shanghai
COLUMNS = [
    "id",
    "account_id",
    "dedup_key",
    "kind",
    "openid",
    "msg_type",
    "event",
    "event_key",
    "scene",
    "scene_ref",
    "channel_id",
    "orphan",
    "create_time",
    "received_at",
]
Row = tuple[Any, ...]


def generate(n_events: int, n_channels: int, days: int, seed: int = 6) -> Iterator[list[Row]]:
    """The event log in batches of rows (``COLUMNS`` order), in arrival order."""
    rng = random.Random(seed)
    n_users = max(100, n_events // 8)
    following = bytearray(n_users)
    first_channel = array("i", [-1]) * n_users  # -1 never followed, 0 followed via no channel
    weights = list(itertools.accumulate(1 / (k + 1) ** 0.9 for k in range(n_channels)))
    total = weights[-1]
    samples = [bisect.bisect_left(weights, rng.random() * total) + 1 for _ in range(65_536)]
    start = END_S - days * 86_400
    step = days * 86_400 / n_events
    batch: list[Row] = []
    for i in range(n_events):
        t = start + int(i * step) + rng.randrange(60)
        u = rng.randrange(max(100, n_users * (i + 1) // n_events))  # the audience grows
        openid = f"o{u:09d}"
        r = rng.random()
        channel: int | None = samples[rng.getrandbits(16)]
        if not following[u]:
            following[u] = 1
            if r < 0.85:
                kind, event = "subscribe_scan", "subscribe"
                orphan = r < 0.017
            else:
                kind, event, orphan, channel = "subscribe", "subscribe", False, None
            if first_channel[u] < 0:
                first_channel[u] = 0 if orphan or channel is None else channel
        elif r < 0.70:
            kind, event, orphan = "scan", "SCAN", r < 0.007
        elif r < 0.85:
            kind, event, orphan, channel = "message", "", False, None
        else:
            following[u] = 0
            kind, event, orphan = "unsubscribe", "unsubscribe", False
            channel = first_channel[u] or None
        scene = None
        if kind in ("subscribe_scan", "scan"):
            scene = f"x{channel}" if orphan else f"c{channel}"
            channel = None if orphan else channel
        key = "" if scene is None else ("qrscene_" + scene if kind == "subscribe_scan" else scene)
        batch.append(
            (
                i + 1,
                1,
                f"{i:040x}",
                kind,
                openid,
                "text" if kind == "message" else "event",
                event,
                key,
                scene,
                None if orphan or scene is None else channel,
                channel,
                orphan,
                t,
                t * 1000,
            )
        )
        if len(batch) == 200_000:
            yield batch
            batch = []
    if batch:
        yield batch


def setup_schema(engine: Engine, n_channels: int) -> list[str]:
    """Fresh tables, accounts/channels/scenes filled; returns the events indexes' DDL."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    ddl = [str(CreateIndex(ix).compile(dialect=engine.dialect)) for ix in events.indexes]
    with engine.begin() as conn:
        for ix in events.indexes:
            conn.execute(text(f"DROP INDEX {ix.name}"))
        # A bulk load queues nothing: the rollups are built from the log afterwards.
        for statement in STATS_PENDING_DROP[engine.dialect.name]:
            conn.exec_driver_sql(statement)
        conn.execute(insert(accounts).values(id=1, appid="wxbench", token="t", created_at=0))
        rows = [
            {
                "id": c,
                "account_id": 1,
                "name": f"channel {c}",
                "group_name": f"group {c % 20}",
                "tags": [],
                "follower_tags": [],
                "created_at": 0,
                "updated_at": 0,
            }
            for c in range(1, n_channels + 1)
        ]
        conn.execute(insert(channels), rows)
        scene_rows = [
            {
                "id": c,
                "account_id": 1,
                "channel_id": c,
                "scene": f"c{c}",
                "scene_type": "str",
                "qr_kind": "permanent",
                "created_at": 0,
            }
            for c in range(1, n_channels + 1)
        ]
        conn.execute(insert(scenes), scene_rows)
    return ddl


def load_sqlite(path: Path, n_channels: int, batches: Iterator[list[Row]]) -> float:
    began = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    ddl = setup_schema(engine, n_channels)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-500000")
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
    for batch in batches:
        conn.executemany(sql, batch)
    conn.commit()
    for statement in ddl:
        conn.execute(statement)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return time.perf_counter() - began


def load_postgres(engine: Engine, n_channels: int, batches: Iterator[list[Row]]) -> float:
    began = time.perf_counter()
    ddl = setup_schema(engine, n_channels)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for batch in batches:
                buffer = io.StringIO()
                for row in batch:
                    buffer.write("\t".join(_copy_value(v) for v in row))
                    buffer.write("\n")
                copy.write(buffer.getvalue())
        raw.commit()
        for statement in ddl:
            cursor.execute(statement)
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE events"))
    return time.perf_counter() - began


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


COVERING = {
    "sqlite": [
        "CREATE INDEX bench_cov_window ON events"
        " (account_id, create_time, kind, openid, channel_id)",
        "CREATE INDEX bench_cov_follow ON events (account_id, openid, kind, create_time)",
        "CREATE INDEX bench_cov_channel ON events (channel_id, create_time, kind, openid)",
    ],
    "postgresql": [
        "CREATE INDEX bench_cov_window ON events (account_id, create_time)"
        " INCLUDE (kind, openid, channel_id, id)",
        "CREATE INDEX bench_cov_follow ON events (account_id, openid, create_time)"
        " INCLUDE (kind, id)",
        "CREATE INDEX bench_cov_channel ON events (channel_id, create_time)"
        " INCLUDE (kind, openid, account_id, id)",
    ],
}


def add_covering_indexes(engine: Engine) -> float:
    """The experiment of ``--covering``: indexes that answer the stats without the table."""
    began = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        names = {ix["name"] for ix in inspect(conn).get_indexes("events")}
        for statement in COVERING[engine.dialect.name]:
            if statement.split()[2] not in names:
                conn.execute(text(statement))
        conn.execute(
            text("ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE events")
        )
    return time.perf_counter() - began


def build_rollups(engine: Engine) -> float:
    """Put the queue trigger back and build the rollups from the loaded log (as
    ``wxqr stats rebuild`` does); seconds taken."""
    began = time.perf_counter()
    with engine.begin() as conn:
        for statement in STATS_PENDING_DROP[engine.dialect.name]:
            conn.exec_driver_sql(statement)
        for statement in STATS_PENDING_DDL[engine.dialect.name]:
            conn.exec_driver_sql(statement)
    StatsRollups(engine).rebuild()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - began


def _has_rollups(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM stats_rollup_state")).scalar())


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median and best wall ms, and the median of this process's CPU ms (SQLite's whole
    work, PostgreSQL's client side: on a shared, loaded machine the steadier figure)."""
    call()  # warm-up (and caches)
    runs, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        call()
        runs.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return statistics.median(runs), min(runs), statistics.median(cpu)


def channel_by_rank(engine: Engine, window: Window, rank: int) -> int:
    query = (
        select(events.c.channel_id, func.count().label("n"))
        .where(events.c.create_time >= window.start_s, events.c.channel_id.is_not(None))
        .group_by(events.c.channel_id)
        .order_by(func.count().desc(), events.c.channel_id)
        .offset(rank)
        .limit(1)
    )
    with engine.connect() as conn:
        return int(conn.execute(query).one().channel_id)


def explain(engine: Engine, window: Window) -> str:
    query = metric_query(Scope(1), window.start_s, window.end_s)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    prefix = (
        "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    )
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":  # the service's session settings
            conn.exec_driver_sql("SET LOCAL jit = off")
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        rows = conn.execute(text(prefix + str(compiled))).all()
    return "\n".join(" | ".join(str(v) for v in row) for row in rows)


def bench(
    name: str, engine: Engine, results: list[tuple[str, str, str, float, float, float]]
) -> None:
    """The issue's queries (90-day window), from the rollups; with ``--log`` also from the
    log alone (the fallback path, slow at millions of events)."""
    rollup_service = StatsService(engine)
    window = Window.from_dates(LAST_DAY - timedelta(days=89), LAST_DAY, TZ)
    previous = Window.from_dates(LAST_DAY - timedelta(days=179), LAST_DAY - timedelta(days=90), TZ)
    with engine.connect() as conn:
        in_window = conn.execute(
            select(func.count()).where(events.c.create_time >= window.start_s)
        ).scalar_one()
    busiest = channel_by_rank(engine, window, 0)
    median = channel_by_rank(engine, window, ARGS.channels // 2)
    print(f"  {name}: {in_window:,} events in the 90-day window", flush=True)
    paths = [("rollups", rollup_service)]
    if ARGS.log:
        paths.append(("log", StatsService(engine, rollups=False)))
    for path, service in paths:
        cases: list[tuple[str, Callable[[], object]]] = [
            ("account summary", lambda s=service: s.summary(1, window)),
            ("per-channel table (all channels)", lambda s=service: s.per_channel(1, window)),
            (
                "busiest channel daily series",
                lambda s=service: s.series(1, window, "day", channel_ids=[busiest]),
            ),
            (
                "median channel daily series",
                lambda s=service: s.series(1, window, "day", channel_ids=[median]),
            ),
            (
                "account daily series + previous period",
                lambda s=service: (s.series(1, window, "day"), s.series(1, previous, "day")),
            ),
            ("per-group table", lambda s=service: s.per_group(1, window)),
        ]
        for label, call in cases:
            med, best, cpu = timed(call, ARGS.repeat)
            results.append((name, label, path, med, best, cpu))
            print(
                f"  {name:10} {path:7} {label:42} median {med:9.1f} ms   best {best:9.1f} ms"
                f"   cpu {cpu:9.1f} ms",
                flush=True,
            )
    if ARGS.explain:
        print(f"--- {name}: plan of the account summary\n{explain(engine, window)}\n", flush=True)


def main() -> None:
    n = ARGS.events

    def batches() -> Iterator[list[Row]]:
        return generate(n, ARGS.channels, ARGS.days)

    results: list[tuple[str, str, str, float, float, float]] = []
    if "sqlite" in ARGS.only:
        path = Path(ARGS.sqlite)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{path}")
        if not (ARGS.reuse and path.exists() and _count(engine) == n):
            engine.dispose()
            print(f"loading {n:,} events into SQLite {path} …", flush=True)
            print(f"  SQLite load: {load_sqlite(path, ARGS.channels, batches()):.0f} s", flush=True)
            engine = make_engine(f"sqlite:///{path}")
        if ARGS.covering:
            print(f"  SQLite covering indexes: {add_covering_indexes(engine):.0f} s", flush=True)
        if not _has_rollups(engine):
            print(f"  SQLite rollups built: {build_rollups(engine):.0f} s", flush=True)
        bench("SQLite", engine, results)
        engine.dispose()
    server = ARGS.postgres or os.environ.get("WXQR_TEST_POSTGRES_URL", "")
    if "postgres" in ARGS.only and server:
        admin = make_engine(server, isolation_level="AUTOCOMMIT")
        url = make_url(make_engine(server).url).set(database=ARGS.pg_database)
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": ARGS.pg_database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{ARGS.pg_database}"'))
        engine = make_engine(url.render_as_string(hide_password=False))
        try:
            if not (ARGS.reuse and exists and _count(engine) == n):
                print(f"loading {n:,} events into PostgreSQL {ARGS.pg_database} …", flush=True)
                print(
                    f"  PostgreSQL load: {load_postgres(engine, ARGS.channels, batches()):.0f} s",
                    flush=True,
                )
            if ARGS.covering:
                seconds = add_covering_indexes(engine)
                print(f"  PostgreSQL covering indexes: {seconds:.0f} s", flush=True)
            if not _has_rollups(engine):
                seconds = build_rollups(engine)
                print(f"  PostgreSQL rollups built: {seconds:.0f} s", flush=True)
            bench("PostgreSQL", engine, results)
        finally:
            engine.dispose()
            if not ARGS.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{ARGS.pg_database}" WITH (FORCE)'))
            admin.dispose()
    extra = ", covering indexes" if ARGS.covering else ""
    print(f"\n{n:,} events, {ARGS.channels:,} channels, {ARGS.days} days; exact uniques{extra}")
    print(
        f"{'database':10} | {'path':7} | {'query':42} | {'median ms':>9} | {'best ms':>9}"
        f" | {'cpu ms':>9}"
    )
    print("-" * 102)
    for name, label, path, med, best, cpu in results:
        print(f"{name:10} | {path:7} | {label:42} | {med:9.1f} | {best:9.1f} | {cpu:9.1f}")


def _count(engine: Engine) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
    except Exception:  # no table yet
        return -1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite", default="/tmp/wxqr-bench/stats.sqlite3")
    parser.add_argument("--postgres", default="")
    parser.add_argument("--pg-database", default=f"wxqr_bench_stats_{os.getpid()}")
    parser.add_argument("--only", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded log")
    parser.add_argument("--keep", action="store_true", help="do not drop the PG database")
    parser.add_argument("--explain", action="store_true", help="print the summary's plan")
    parser.add_argument("--log", action="store_true", help="also time the log-only path")
    parser.add_argument(
        "--covering", action="store_true", help="add covering indexes (an experiment) first"
    )
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()
    main()
