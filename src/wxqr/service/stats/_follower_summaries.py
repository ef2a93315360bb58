"""Follower summaries: what retention and the audience need from ``follower_spans``,
counted per local day (and per first-touch channel), kept by the spans' own refresh.

Retention and the audience are sums over spans (docs/metrics.md, "How they are
computed"); these tables hold those sums per day, so a 12-week table or a 90-point series
reads rows per day (× channel) instead of one row per follower:

- ``follower_cohorts`` (and per channel): per cohort day (the local day of the first
  follow) and day offset ``n``: ``members`` (first spans, all at offset 0), ``joined``
  (spans whose first held day, ``ceil((start - first) / day)``, is ``n``), ``departed``
  (spans whose first day no longer held, ``ceil((end - first) / day)``, is ``n``) and
  ``first_departed`` (the same for first spans). Retained at Dn = Σ joined − departed over
  offsets ≤ n; unfollowed within N = Σ first_departed over offsets ≤ N.
- ``follower_days`` (and per channel, and per channel for every day together): spans
  opened and closed per local day. Following at the last second of day d = Σ opened −
  closed over days ≤ d.

They change by the difference of an openid's old and new spans whenever the refresh
recomputes them (so a late, out-of-order push is handled as the spans are), and are
rebuilt from the spans when the account's zone is not the one they were built in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wxqr.store.tables import (
    accounts,
    follower_channel_cohorts,
    follower_channel_days,
    follower_channel_totals,
    follower_cohorts,
    follower_days,
    follower_spans,
    follower_summary_zones,
)

from ._rollup_days import DayMapper
from ._window import zone

__all__ = [
    "SUMMARY_TABLES",
    "SummaryDeltas",
    "account_zone",
    "rebuild",
    "span_rows",
    "summary_zone",
]

_DAY = 86_400
_BATCH = 5_000
SUMMARY_TABLES = (
    follower_cohorts,
    follower_channel_cohorts,
    follower_days,
    follower_channel_days,
    follower_channel_totals,
)

#: ``(first_follow_at, seq, span_start, span_end, channel_id)`` of one span.
SpanRow = Sequence[Any]


def _ceil_days(seconds: int) -> int:
    return -(-seconds // _DAY)


class SummaryDeltas:
    """The change of every summary row from spans removed (``sign`` −1) and added (+1)."""

    def __init__(self, timezone: str) -> None:
        self._days = DayMapper(zone(timezone))
        self.cohorts: defaultdict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 4)
        self.channel_cohorts: defaultdict[tuple[int, int, int], list[int]] = defaultdict(
            lambda: [0] * 4
        )
        self.days: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
        self.channel_days: defaultdict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        self.totals: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, spans: Iterable[SpanRow], sign: int) -> None:
        day = self._days.day
        for first, seq, start, end, channel in spans:
            cohort = day(first)
            opens = _ceil_days(start - first)
            row = self.cohorts[cohort, opens]
            row[1] += sign
            if seq == 0:
                row[0] += sign
            opened = day(start)
            self.days[opened][0] += sign
            if channel is not None:
                crow = self.channel_cohorts[cohort, channel, opens]
                crow[1] += sign
                if seq == 0:
                    crow[0] += sign
                self.channel_days[opened, channel][0] += sign
                self.totals[channel][0] += sign
            if end is None:
                continue
            closes = _ceil_days(end - first)
            row = self.cohorts[cohort, closes]
            row[2] += sign
            if seq == 0:
                row[3] += sign
            closed = day(end)
            self.days[closed][1] += sign
            if channel is not None:
                crow = self.channel_cohorts[cohort, channel, closes]
                crow[2] += sign
                if seq == 0:
                    crow[3] += sign
                self.channel_days[closed, channel][1] += sign
                self.totals[channel][1] += sign

    def _tables(self, account_id: int) -> Iterable[tuple[Table, list[dict[str, Any]]]]:
        counts = ("members", "joined", "departed", "first_departed")
        moves = ("opened", "closed")
        yield (
            follower_cohorts,
            [
                {
                    "account_id": account_id,
                    "day": d,
                    "day_offset": n,
                    **dict(zip(counts, v, strict=True)),
                }
                for (d, n), v in self.cohorts.items()
                if any(v)
            ],
        )
        yield (
            follower_channel_cohorts,
            [
                {
                    "account_id": account_id,
                    "day": d,
                    "channel_id": c,
                    "day_offset": n,
                    **dict(zip(counts, v, strict=True)),
                }
                for (d, c, n), v in self.channel_cohorts.items()
                if any(v)
            ],
        )
        yield (
            follower_days,
            [
                {"account_id": account_id, "day": d, **dict(zip(moves, v, strict=True))}
                for d, v in self.days.items()
                if any(v)
            ],
        )
        yield (
            follower_channel_days,
            [
                {
                    "account_id": account_id,
                    "day": d,
                    "channel_id": c,
                    **dict(zip(moves, v, strict=True)),
                }
                for (d, c), v in self.channel_days.items()
                if any(v)
            ],
        )
        yield (
            follower_channel_totals,
            [
                {"account_id": account_id, "channel_id": c, **dict(zip(moves, v, strict=True))}
                for c, v in self.totals.items()
                if any(v)
            ],
        )

    def insert(self, conn: Connection, account_id: int) -> None:
        """Write the rows into empty summaries (a rebuild)."""
        for table, rows in self._tables(account_id):
            for i in range(0, len(rows), _BATCH):
                conn.execute(insert(table), rows[i : i + _BATCH])

    def apply(self, conn: Connection, account_id: int) -> None:
        """Add the changes to the stored rows (created at zero when missing)."""
        make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for table, rows in self._tables(account_id):
            if not rows:
                continue
            keys = [c.name for c in table.primary_key.columns]
            values = [c.name for c in table.columns if c.name not in keys]
            statement = make(table)
            statement = statement.on_conflict_do_update(
                index_elements=keys,
                set_={name: table.c[name] + statement.excluded[name] for name in values},
            )
            for i in range(0, len(rows), _BATCH):
                conn.execute(statement, rows[i : i + _BATCH])


def account_zone(conn: Connection, account_id: int) -> str:
    return str(
        conn.execute(select(accounts.c.timezone).where(accounts.c.id == account_id)).scalar_one()
    )


def summary_zone(conn: Connection, account_id: int) -> str | None:
    """The zone the account's summaries were built in (None: never built)."""
    z = follower_summary_zones.c
    found = conn.execute(select(z.timezone).where(z.account_id == account_id)).scalar_one_or_none()
    return None if found is None else str(found)


def span_rows(account_id: int) -> Any:
    """The summaries' view of the spans: ``(first_follow_at, seq, start, end, channel)``."""
    s = follower_spans.c
    return select(s.first_follow_at, s.seq, s.span_start, s.span_end, s.channel_id).where(
        s.account_id == account_id
    )


def rebuild(conn: Connection, account_id: int, timezone: str) -> None:
    """Recount the account's summaries from its spans, in ``timezone``."""
    for table in SUMMARY_TABLES:
        conn.execute(delete(table).where(table.c.account_id == account_id))
    deltas = SummaryDeltas(timezone)
    deltas.add(conn.execute(span_rows(account_id)), 1)
    deltas.insert(conn, account_id)
    z = follower_summary_zones.c
    conn.execute(delete(follower_summary_zones).where(z.account_id == account_id))
    conn.execute(insert(follower_summary_zones).values(account_id=account_id, timezone=timezone))
