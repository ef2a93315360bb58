"""Retention and audience speed on a big log: SQLite and PostgreSQL (issue 17 §2, §3).

    python bench/retention.py [--events 10000000] [--channels 1000] [--days 365]
                              [--sqlite PATH] [--postgres URL] [--only sqlite postgres]

The log is ``bench/stats.py``'s (same generator: a growing audience, 15 % of a follower's
actions are unfollows, pushes out of order by up to a minute), loaded the same way; the
``followers`` rows are what the ingest keeps for it (its own transitions, replayed in
arrival order). Then, median and range of ``--runs`` runs after a warm-up:

- the account's 12-week retention table (weekly cohorts of the last 84 days, D1 … D77,
  unfollow rate per channel), after a first query has built the follower spans;
- the same for the busiest channel;
- the account's audience over 90 days (daily points, channels, sources), the same without
  the source breakdown (the dashboard's card), and the busiest channel's.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from sqlalchemy import Engine, case, func, select, text
from sqlalchemy.engine import make_url

import stats as log_bench
from _harness import add_output_flag, emit, repeat, spread
from wxqr.service.ingest._followers import FollowerState, apply_event
from wxqr.service.stats import AccountRef, Granularity, StatsQuery, Window
from wxqr.service.stats._follower_summaries import SUMMARY_TABLES
from wxqr.service.stats.audience import AudienceService
from wxqr.service.stats.retention import RetentionService
from wxqr.store.db import make_engine
from wxqr.store.tables import events, follower_spans, follower_summary_zones, followers

TZ = log_bench.TZ
LAST_DAY = log_bench.LAST_DAY
NOW = log_bench.END_S + 3600  # an hour after the log ends
_FOLLOWER_COLUMNS = (
    "account_id",
    "openid",
    "following",
    "first_follow_at",
    "first_scene",
    "first_channel_id",
    "last_follow_at",
    "last_scene",
    "last_channel_id",
    "unfollowed_at",
    "refollow_count",
    "updated_at",
)


def _replayed(
    batches: Iterator[list[tuple[Any, ...]]], states: dict[str, FollowerState]
) -> Iterator[list[tuple[Any, ...]]]:
    """Pass the batches on, keeping the followers rows the ingest would write for them."""
    kind_at, openid_at, scene_at = 3, 4, 8
    channel_at, time_at = 10, 12
    for batch in batches:
        for row in batch:
            openid = row[openid_at]
            after = apply_event(
                states.get(openid),
                row[kind_at],
                at=row[time_at],
                scene=row[scene_at],
                channel_id=row[channel_at],
            )
            if after is not None:
                states[openid] = after
        yield batch


def _rows(states: dict[str, FollowerState]) -> Iterator[tuple[Any, ...]]:
    for openid, s in states.items():
        yield (
            1,
            openid,
            s.following,
            s.first_follow_at,
            s.first_scene,
            s.first_channel_id,
            s.last_follow_at,
            s.last_scene,
            s.last_channel_id,
            s.unfollowed_at,
            s.refollow_count,
            0,
        )


def load_followers(engine: Engine, states: dict[str, FollowerState]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("DELETE FROM followers")
        if engine.dialect.name == "sqlite":
            marks = ", ".join("?" * len(_FOLLOWER_COLUMNS))
            sql = f"INSERT INTO followers ({', '.join(_FOLLOWER_COLUMNS)}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, list(_rows(states)))
        else:
            with cursor.copy(f"COPY followers ({', '.join(_FOLLOWER_COLUMNS)}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for row in _rows(states):
                    buffer.write("\t".join(log_bench._copy_value(v) for v in row) + "\n")
                copy.write(buffer.getvalue())
        raw.commit()
        cursor.execute("ANALYZE followers" if engine.dialect.name == "postgresql" else "ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _query(days: int, channel_ids: tuple[int, ...] | None, unit: Granularity) -> StatsQuery:
    first = LAST_DAY - timedelta(days=days - 1)
    return StatsQuery(
        account=AccountRef(1, "wxbench", "", TZ),
        date_from=first,
        date_to=LAST_DAY,
        window=Window.from_dates(first, LAST_DAY, TZ),
        channel_ids=channel_ids,
        granularity=unit,
        timezone=TZ,
    )


def _busiest_channel(engine: Engine) -> int:
    f = followers.c
    query = (
        select(f.first_channel_id)
        .where(f.first_channel_id.is_not(None))
        .group_by(f.first_channel_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def bench(name: str, engine: Engine, rows: list[dict[str, Any]]) -> None:
    retention = RetentionService(engine, clock=lambda: NOW)
    audience = AudienceService(engine)
    busiest = _busiest_channel(engine)
    weeks = _query(84, None, Granularity.WEEK)
    began = time.perf_counter()
    retention.retention_of(weeks, cohort="week")  # builds the follower spans (one pass)
    print(f"  {name}: first query, building the spans: {time.perf_counter() - began:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # What autovacuum (PostgreSQL) or wxqr's own ANALYZE (SQLite) does after a load.
        conn.execute(text("ANALYZE follower_spans" if name == "PostgreSQL" else "ANALYZE"))
    with engine.connect() as conn:
        sp = follower_spans.c
        cohort = conn.execute(
            select(func.count(), func.sum(case((sp.seq > 0, 1), else_=0))).where(
                sp.first_follow_at >= weeks.window.start_s
            )
        ).one()
        spans = conn.execute(select(func.count()).select_from(follower_spans)).scalar_one()
        total = conn.execute(select(func.count()).select_from(events)).scalar_one()
    print(
        f"  {name}: {total:,} events, {spans:,} follower spans; 12-week cohorts:"
        f" {cohort[0]:,} spans ({cohort[1] or 0:,} of re-follows)",
        flush=True,
    )
    cases = [
        ("12-week retention table, account", lambda: retention.retention_of(weeks, cohort="week")),
        (
            f"12-week retention table, busiest channel {busiest}",
            lambda: retention.retention_of(_query(84, (busiest,), Granularity.WEEK), cohort="week"),
        ),
        (
            "audience, 90 daily points, account",
            lambda: audience.audience_of(_query(90, None, Granularity.DAY)),
        ),
        (
            "audience, 90 daily points, account, no sources",
            lambda: audience.audience_of(_query(90, None, Granularity.DAY), sources=False),
        ),
        (
            f"audience, 90 daily points, busiest channel {busiest}",
            lambda: audience.audience_of(_query(90, (busiest,), Granularity.DAY), sources=False),
        ),
    ]
    for label, call in cases:
        call()  # warm-up
        figures = spread([s * 1000 for s in repeat(call, ARGS.runs)])
        rows.append({"database": name, "query": label, "ms": figures.format(".1f")})
        print(f"  {name:10} {label:50} {figures.format('.1f')} ms", flush=True)


def main() -> None:
    n = ARGS.events
    log_bench.ARGS = ARGS  # its loaders read nothing of ARGS; set for safety
    rows: list[dict[str, Any]] = []
    if "sqlite" in ARGS.only:
        path = Path(ARGS.sqlite)
        path.parent.mkdir(parents=True, exist_ok=True)
        states: dict[str, FollowerState] = {}
        began = time.perf_counter()
        if ARGS.reuse and path.exists():  # a log this script loaded before (same flags)
            engine = make_engine(f"sqlite:///{path}")
            for table in (*SUMMARY_TABLES, follower_summary_zones):
                table.create(engine, checkfirst=True)
        else:
            log_bench.load_sqlite(
                path,
                ARGS.channels,
                _replayed(log_bench.generate(n, ARGS.channels, ARGS.days), states),
            )
            engine = make_engine(f"sqlite:///{path}")
            load_followers(engine, states)
        print(f"  SQLite load: {time.perf_counter() - began:.0f} s", flush=True)
        bench("SQLite", engine, rows)
        engine.dispose()
    server = ARGS.postgres or os.environ.get("WXQR_TEST_POSTGRES_URL", "")
    if "postgres" in ARGS.only and server:
        admin = make_engine(server, isolation_level="AUTOCOMMIT")
        url = make_url(make_engine(server).url).set(database=ARGS.pg_database)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{ARGS.pg_database}"'))
        engine = make_engine(url.render_as_string(hide_password=False))
        try:
            states = {}
            began = time.perf_counter()
            log_bench.load_postgres(
                engine,
                ARGS.channels,
                _replayed(log_bench.generate(n, ARGS.channels, ARGS.days), states),
            )
            load_followers(engine, states)
            print(f"  PostgreSQL load: {time.perf_counter() - began:.0f} s", flush=True)
            bench("PostgreSQL", engine, rows)
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{ARGS.pg_database}" WITH (FORCE)'))
            admin.dispose()
    print(
        f"\n{n:,} events, {ARGS.channels:,} channels, {ARGS.days} days;"
        f" median (range) of {ARGS.runs}"
    )
    emit(rows, ARGS)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite", default="/tmp/wxqr-bench/retention.sqlite3")
    parser.add_argument("--postgres", default="")
    parser.add_argument("--pg-database", default=f"wxqr_bench_retention_{os.getpid()}")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the SQLite file of an earlier run when present"
    )
    parser.add_argument("--only", nargs="+", default=["sqlite", "postgres"])
    add_output_flag(parser)
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()
    main()
