"""Follower spans: the intervals of time each openid was following (docs/metrics.md,
"Following at an instant"), computed from the log's follows and unfollows only.

``follower_spans`` holds, per openid that ever followed, its spans ``[span_start,
span_end)`` (``span_end`` NULL: following still) with its first follow and first-touch
channel on every row, so that the audience and retention are plain aggregates over it.
It is a cache of the log, brought up to date before each query (:func:`refresh`): the
openids with a follow or unfollow stored after ``follower_spans_progress.last_event_id``
get their spans recomputed from their whole log (so a late, out-of-order push is simply
part of it). On PostgreSQL the refresh holds the account's ingest lock, so that no event
of the account with a smaller id can still be uncommitted when the progress moves on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wxqr.store.tables import events, follower_spans, follower_spans_progress

from ._follower_summaries import (
    SummaryDeltas,
    account_zone,
    rebuild,
    span_rows,
    summary_zone,
)
from ._sql import FOLLOW_KINDS, UNFOLLOW_KIND

__all__ = ["FULL_REBUILD_EVENTS", "refresh", "spans_of"]

#: Beyond this many new event ids, one pass over the account's follows and unfollows is
#: cheaper than reading each touched openid's log (the first query of an install).
FULL_REBUILD_EVENTS = 200_000
_CHUNK = 500
# The ingest writers' advisory lock class (wxqr.service.ingest._sql), "wxqi" in ASCII.
_PG_INGEST_LOCK = 0x77787169
_KINDS = (*FOLLOW_KINDS, UNFOLLOW_KIND)

Span = tuple[int, int | None]


def spans_of(history: Iterable[tuple[str, int, int | None]]) -> tuple[list[Span], int | None]:
    """The spans and first-touch channel of one openid from its ``(kind, create_time,
    channel_id)`` follows and unfollows in log order (no spans: it never followed)."""
    spans: list[list[Any]] = []
    channel: int | None = None
    following = False
    for kind, at, channel_id in history:
        if kind != UNFOLLOW_KIND:
            if not spans and not following:
                channel = channel_id if kind == "subscribe_scan" else None
            if not following:
                spans.append([at, None])
                following = True
        elif following:  # an unfollow before the first follow, or a repeated one: no change
            spans[-1][1] = at
            following = False
    return [(int(s), None if e is None else int(e)) for s, e in spans], channel


def _rows(
    account_id: int, openid: str, history: list[tuple[str, int, int | None]]
) -> list[dict[str, Any]]:
    spans, channel = spans_of(history)
    if not spans:
        return []
    first = spans[0][0]
    return [
        {
            "account_id": account_id,
            "openid": openid,
            "seq": seq,
            "span_start": start,
            "span_end": end,
            "first_follow_at": first,
            "channel_id": channel,
        }
        for seq, (start, end) in enumerate(spans)
    ]


def _grouped(
    rows: Iterable[Sequence[Any]],
) -> Iterator[tuple[str, list[tuple[str, int, int | None]]]]:
    """``(openid, history)`` of rows ``(openid, kind, create_time, channel_id)`` sorted by
    openid, then log order."""
    current: str | None = None
    history: list[tuple[str, int, int | None]] = []
    for openid, kind, at, channel_id in rows:
        if openid != current:
            if current is not None:
                yield current, history
            current, history = openid, []
        history.append((str(kind), int(at), channel_id))
    if current is not None:
        yield current, history


def _write(
    conn: Connection,
    account_id: int,
    rows: Iterable[Sequence[Any]],
    deltas: SummaryDeltas | None = None,
) -> None:
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        conn.execute(insert(follower_spans), batch)
        if deltas is not None:
            deltas.add(
                (
                    (
                        r["first_follow_at"],
                        r["seq"],
                        r["span_start"],
                        r["span_end"],
                        r["channel_id"],
                    )
                    for r in batch
                ),
                1,
            )

    for openid, history in _grouped(rows):
        batch.extend(_rows(account_id, openid, history))
        if len(batch) >= 5_000:
            flush()
            batch = []
    if batch:
        flush()


def _log(account_id: int) -> Any:
    e = events.c
    return select(e.openid, e.kind, e.create_time, e.channel_id).where(
        e.account_id == account_id, e.kind.in_(_KINDS)
    )


def refresh(engine: Engine, account_id: int) -> None:
    """Bring the account's spans up to date with its log (idempotent; when nothing changed:
    two index look-ups and no write). An id at or below the progress mark can no longer
    be uncommitted: the mark moved there under the ingest lock (PostgreSQL), or with the
    only write lock (SQLite), and ids allocated later are larger."""
    p, e = follower_spans_progress.c, events.c
    with engine.connect() as conn:  # nothing new (the usual case): no write, no lock
        done_before = conn.execute(
            select(p.last_event_id).where(p.account_id == account_id)
        ).scalar_one_or_none()
        newest = conn.execute(select(func.max(e.id))).scalar_one()
        zoned = account_zone(conn, account_id) == summary_zone(conn, account_id)
    if zoned and (newest is None or (done_before is not None and int(newest) <= int(done_before))):
        return
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(%s, %s)", (_PG_INGEST_LOCK, account_id)
            )
        statement = (pg_insert if postgres else sqlite_insert)(follower_spans_progress)
        # A write first: on SQLite it takes the write lock, so what is read next is current.
        conn.execute(
            statement.values(account_id=account_id, last_event_id=0).on_conflict_do_nothing()
        )
        done = int(
            conn.execute(select(p.last_event_id).where(p.account_id == account_id)).scalar_one()
        )
        top = conn.execute(select(func.max(e.id))).scalar_one()
        timezone = account_zone(conn, account_id)
        # Summaries in another zone than the account's, or none yet, or spans counted
        # from nothing: recounted from the spans after.
        stale = done == 0 or timezone != summary_zone(conn, account_id)
        if top is None or int(top) <= done:
            if stale:
                rebuild(conn, account_id, timezone)
            return
        top = int(top)
        s = follower_spans.c
        deltas = None if stale else SummaryDeltas(timezone)
        if top - done > FULL_REBUILD_EVENTS:
            # One pass (sorted here: cheaper than the database's sort of the whole log).
            conn.execute(delete(follower_spans).where(s.account_id == account_id))
            found = sorted(
                conn.execute(_log(account_id).add_columns(e.id)),
                key=lambda row: (row[0], row[2], row[4]),
            )
            _write(conn, account_id, (row[:4] for row in found))
            stale, deltas = True, None
        else:
            touched = sorted(
                conn.execute(
                    select(e.openid)
                    .distinct()
                    .where(e.id > done, e.id <= top, e.account_id == account_id, e.kind.in_(_KINDS))
                ).scalars()
            )
            for i in range(0, len(touched), _CHUNK):
                chunk = touched[i : i + _CHUNK]
                if deltas is not None:  # the old spans leave the summaries, the new enter
                    old = span_rows(account_id).where(s.openid.in_(chunk))
                    deltas.add(conn.execute(old), -1)
                conn.execute(
                    delete(follower_spans).where(s.account_id == account_id, s.openid.in_(chunk))
                )
                query = (
                    _log(account_id)
                    .where(e.openid.in_(chunk))
                    .order_by(e.openid, e.create_time, e.id)
                )
                _write(conn, account_id, conn.execute(query), deltas)
        if stale:
            rebuild(conn, account_id, timezone)
        elif deltas is not None:
            deltas.apply(conn, account_id)
        conn.execute(
            update(follower_spans_progress)
            .where(p.account_id == account_id)
            .values(last_event_id=top)
        )
