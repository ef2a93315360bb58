"""Answering from the rollups: day counts summed, scanner sets of aligned blocks unioned.

A window is served here when it is whole local days of the account's zone (and read in
that zone) and the account's rollups are built in it; otherwise the caller uses the log.
The cost is by days × channels: a 90-day window reads 90 count rows and about a dozen
sets per owner, whatever the number of events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyroaring import BitMap
from sqlalchemy import Connection, and_, func, or_, select

from wxqr.store.tables import (
    accounts,
    stats_account_days,
    stats_account_sets,
    stats_channel_days,
    stats_channel_sets,
    stats_rollup_state,
)

from ._model import Metrics
from ._rollup_days import DayMapper, blocks_covering
from ._window import DEFAULT_TIMEZONE, Window, zone

__all__ = ["DaySpan", "RollupReader", "day_span"]

_COUNTS = ("scans", "new_followers", "returning_followers", "unfollows")


@dataclass(frozen=True, slots=True)
class DaySpan:
    """Local days ``[first, end)`` of the zone ``tz`` the account's rollups are in."""

    first: int
    end: int
    days: DayMapper


def day_span(conn: Connection, account_id: int, window: Window) -> DaySpan | None:
    """The window as whole rollup days, or None when the rollups cannot serve it."""
    row = conn.execute(
        select(stats_rollup_state.c.timezone, accounts.c.timezone)
        .select_from(stats_rollup_state.join(accounts))
        .where(stats_rollup_state.c.account_id == account_id)
    ).first()
    if row is None or row[0] != (row[1] or DEFAULT_TIMEZONE):
        return None
    if window.tz is not None and window.tz != row[0]:
        return None
    days = DayMapper(zone(str(row[0])))
    start_s, end_s = window.start_s, window.end_s
    first, end = days.day(start_s), days.day(end_s)
    if days.midnight(first) != start_s or days.midnight(end) != end_s:
        return None
    return DaySpan(first, end, days)


def _metrics(counts: Sequence[int], unique: int) -> Metrics:
    scans, new, returning, unfollows = (int(v or 0) for v in counts)
    return Metrics.of(
        scans=scans,
        unique_scanners=unique,
        new_followers=new,
        returning_followers=returning,
        unfollows=unfollows,
    )


class RollupReader:
    """Reads of one account's rollups on one connection."""

    def __init__(self, conn: Connection, account_id: int) -> None:
        self._conn = conn
        self._account_id = account_id

    def _days_table(self, channel_ids: Sequence[int] | None) -> tuple[Any, Any]:
        if channel_ids is None:
            table = stats_account_days
            return table, table.c.account_id == self._account_id
        table = stats_channel_days
        return table, table.c.channel_id.in_(channel_ids)

    def counts_by(
        self, first: int, end: int, channel_ids: Sequence[int] | None, *, by: str
    ) -> dict[int, list[int]]:
        """Summed counts over days ``[first, end)``, keyed by ``by`` ("channel" or "day")."""
        table, owner = self._days_table(channel_ids)
        owner_col = table.c.channel_id if channel_ids is not None else table.c.account_id
        key = owner_col if by == "channel" else table.c.day
        query = (
            select(key, *(func.sum(table.c[name]) for name in _COUNTS))
            .where(owner, table.c.day >= first, table.c.day < end)
            .group_by(key)
        )
        return {int(row[0]): [int(v or 0) for v in row[1:]] for row in self._conn.execute(query)}

    def day_uniques(self, first: int, end: int, channel_id: int | None) -> dict[int, int]:
        """Exact unique scanners per day of one owner (stored with the day's counts)."""
        table, owner = self._days_table(None if channel_id is None else [channel_id])
        query = select(table.c.day, table.c.unique_scanners).where(
            owner, table.c.day >= first, table.c.day < end
        )
        return {int(day): int(n) for day, n in self._conn.execute(query)}

    def sets(
        self, blocks: Iterable[tuple[int, int]], channel_ids: Sequence[int] | None
    ) -> dict[tuple[int, int, int], tuple[int, bytes]]:
        """``{(owner, level, block): (cardinality, blob)}`` of the owners' sets."""
        wanted: dict[int, list[int]] = {}
        for level, block in blocks:
            wanted.setdefault(level, []).append(block)
        if not wanted:
            return {}
        if channel_ids is None:
            table, owner_col = stats_account_sets, stats_account_sets.c.account_id
            owner = owner_col == self._account_id
        else:
            table, owner_col = stats_channel_sets, stats_channel_sets.c.channel_id
            owner = owner_col.in_(channel_ids)
        which = or_(
            *(
                and_(table.c.level == level, table.c.block.in_(sorted(set(found))))
                for level, found in wanted.items()
            )
        )
        query = select(owner_col, table.c.level, table.c.block, table.c.cardinality, table.c.uids)
        return {
            (int(row[0]), int(row[1]), int(row[2])): (int(row[3]), bytes(row[4]))
            for row in self._conn.execute(query.where(owner, which))
        }


def union_size(parts: Sequence[tuple[int, bytes]]) -> int:
    """Exact size of the union of serialized sets (one set: its stored cardinality)."""
    if not parts:
        return 0
    if len(parts) == 1:
        return parts[0][0]
    return len(BitMap.union(*(BitMap.deserialize(blob) for _n, blob in parts)))


def summary(reader: RollupReader, span: DaySpan, channel_ids: Sequence[int] | None) -> Metrics:
    counts = reader.counts_by(span.first, span.end, channel_ids, by="channel")
    totals = [sum(cell[i] for cell in counts.values()) for i in range(4)]
    blocks = blocks_covering(span.first, span.end)
    parts = list(reader.sets(blocks, channel_ids).values())
    return _metrics(totals, union_size(parts))


def per_owner(
    reader: RollupReader, span: DaySpan, channel_ids: Sequence[int]
) -> dict[int, Metrics]:
    """Each channel's metrics (no entry: all zero)."""
    counts = reader.counts_by(span.first, span.end, channel_ids, by="channel")
    blocks = blocks_covering(span.first, span.end)
    parts: dict[int, list[tuple[int, bytes]]] = {}
    for (owner, _level, _block), value in reader.sets(blocks, channel_ids).items():
        parts.setdefault(owner, []).append(value)
    return {
        owner: _metrics(counts.get(owner, [0, 0, 0, 0]), union_size(parts.get(owner, [])))
        for owner in set(counts) | set(parts)
    }


def per_group(
    reader: RollupReader, span: DaySpan, groups: dict[Any, list[int]]
) -> dict[Any, Metrics]:
    """Each group's metrics: summed counts, the union of its channels' sets."""
    ids = sorted({i for members in groups.values() for i in members})
    if not ids:
        return {}
    counts = reader.counts_by(span.first, span.end, ids, by="channel")
    blocks = blocks_covering(span.first, span.end)
    parts: dict[int, list[tuple[int, bytes]]] = {}
    for (owner, _level, _block), value in reader.sets(blocks, ids).items():
        parts.setdefault(owner, []).append(value)
    result = {}
    for name, members in groups.items():
        totals = [sum(counts.get(m, [0, 0, 0, 0])[i] for m in members) for i in range(4)]
        result[name] = _metrics(totals, union_size([p for m in members for p in parts.get(m, [])]))
    return result


def series(
    reader: RollupReader,
    span: DaySpan,
    bucket_days: Sequence[tuple[int, int]],
    channel_ids: Sequence[int] | None,
) -> list[Metrics]:
    """Each bucket's metrics; ``bucket_days`` are their day ranges (inside the span)."""
    by_day = reader.counts_by(span.first, span.end, channel_ids, by="day")
    single = channel_ids is None or len(channel_ids) == 1
    daily = all(end - first == 1 for first, end in bucket_days)
    sets: dict[tuple[int, int, int], tuple[int, bytes]] = {}
    uniques: dict[int, int] = {}
    if single and daily:
        owner = None if channel_ids is None else channel_ids[0]
        uniques = reader.day_uniques(span.first, span.end, owner)
    else:
        wanted = {b for first, end in bucket_days for b in blocks_covering(first, end)}
        sets = reader.sets(wanted, channel_ids)
    owners = sorted({key[0] for key in sets})
    result = []
    for first, end in bucket_days:
        totals = [0, 0, 0, 0]
        for day in range(first, end):
            cell = by_day.get(day)
            if cell:
                totals = [a + b for a, b in zip(totals, cell, strict=True)]
        if single and daily:
            unique = uniques.get(first, 0)
        else:
            blocks = blocks_covering(first, end)
            unique = union_size(
                [sets[(o, lv, bl)] for o in owners for lv, bl in blocks if (o, lv, bl) in sets]
            )
        result.append(_metrics(totals, unique))
    return result
