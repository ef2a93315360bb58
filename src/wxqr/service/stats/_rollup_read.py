"""Answering from the rollups: day counts summed, scanner sets of aligned blocks unioned.

A window is served here when it is whole local days of the account's zone (and read in
that zone) and the account's rollups are built in it; otherwise the caller uses the log.
The cost is by blocks × channels: a 90-day window reads about a dozen aligned day blocks
(counts and scanner set) per owner, whatever the number of events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from pyroaring import BitMap
from sqlalchemy import Connection, select

from wxqr.store.tables import (
    accounts,
    channels,
    stats_account_blocks,
    stats_channel_blocks,
    stats_rollup_state,
)

from ._attribution import Attribution
from ._model import Metrics
from ._rollup_days import DayMapper, blocks_covering
from ._window import DEFAULT_TIMEZONE, Window, zone

__all__ = ["DaySpan", "RollupReader", "day_span"]

_COUNTS = ("scans", "new_followers", "returning_followers", "follow_scans")
_UNFOLLOWS = {
    Attribution.FIRST_TOUCH: "unfollows",
    Attribution.LAST_TOUCH: "unfollows_last_touch",
}


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
    scans, new, returning, follow_scans, unfollows = (int(v or 0) for v in counts)
    return Metrics.of(
        scans=scans,
        unique_scanners=unique,
        new_followers=new,
        returning_followers=returning,
        unfollows=unfollows,
        follow_scans=follow_scans,
    )


@dataclass(slots=True)
class _Block:
    counts: list[int]
    unique: int
    uids: bytes


class RollupReader:
    """Reads of one account's rollup blocks on one connection."""

    def __init__(
        self,
        conn: Connection,
        account_id: int,
        attribution: Attribution = Attribution.FIRST_TOUCH,
    ) -> None:
        self._conn = conn
        self._account_id = account_id
        self._counts = ", ".join((*_COUNTS, _UNFOLLOWS[attribution]))

    def blocks(
        self,
        wanted: Iterable[tuple[int, int]],
        channel_ids: Sequence[int] | None,
        *,
        every_channel: bool = False,
    ) -> dict[tuple[int, int, int], _Block]:
        """``{(owner, level, block): _Block}`` of the account (``channel_ids`` None) or of
        those channels (``every_channel``: all of the account's); one primary-key range
        query per level. The SQL is built from integers only, and read through the
        driver's cursor: thousands of small rows, where per-row overhead is the cost."""
        by_level: dict[int, set[int]] = {}
        for level, block in wanted:
            by_level.setdefault(level, set()).add(block)
        account = int(self._account_id)
        if channel_ids is None:
            table, owner_col, owner = stats_account_blocks.name, "account_id", f"= {account}"
        else:
            table, owner_col = stats_channel_blocks.name, "channel_id"
            if every_channel:
                owner = f"IN (SELECT id FROM {channels.name} WHERE account_id = {account})"  # noqa: S608 - integers only
            else:
                owner = f"IN ({', '.join(str(int(i)) for i in channel_ids) or 'NULL'})"
        cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        found: dict[tuple[int, int, int], _Block] = {}
        try:
            for level, blocks in sorted(by_level.items()):
                numbers = ", ".join(str(int(b)) for b in sorted(blocks))
                cursor.execute(
                    f"SELECT {owner_col}, block, unique_scanners, uids, {self._counts} "  # noqa: S608 - integers only
                    f"FROM {table} WHERE level = {int(level)} AND block IN ({numbers}) "
                    f"AND {owner_col} {owner}"
                )
                for row in cursor.fetchall():
                    found[(row[0], level, row[1])] = _Block(list(row[4:]), row[2], row[3])
        finally:
            cursor.close()
        return found

    def owner_rows(
        self,
        wanted: Iterable[tuple[int, int]],
        channel_ids: Sequence[int],
        *,
        every_channel: bool = False,
    ) -> list[tuple[Any, ...]]:
        """``(channel, unique_scanners, uids, scans, new, returning, follow_scans,
        unfollows)`` (unfollows of the reader's attribution model) of the
        channels' blocks in ``wanted``, ordered by channel: one query for every level,
        raw driver tuples (the per-channel table reads ~9 rows for each of thousands of
        channels; per-row Python work is what it costs)."""
        by_level: dict[int, set[int]] = {}
        for level, block in wanted:
            by_level.setdefault(int(level), set()).add(int(block))
        if not by_level:
            return []
        account = int(self._account_id)
        if every_channel:
            owner = f"IN (SELECT id FROM {channels.name} WHERE account_id = {account})"  # noqa: S608 - integers only
        else:
            owner = f"IN ({', '.join(str(int(i)) for i in channel_ids) or 'NULL'})"
        levels = " OR ".join(
            f"(level = {int(level)} AND block IN ({', '.join(map(str, sorted(blocks)))}))"
            for level, blocks in sorted(by_level.items())
        )
        cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(
                f"SELECT channel_id, unique_scanners, uids, {self._counts} "  # noqa: S608 - integers only
                f"FROM {stats_channel_blocks.name} WHERE ({levels}) AND channel_id {owner} "
                "ORDER BY channel_id"
            )
            return list(cursor.fetchall())
        finally:
            cursor.close()


def union_size(parts: Sequence[_Block]) -> int:
    """Exact size of the union of the blocks' scanner sets (one: its stored size)."""
    sets = [p for p in parts if p.unique]
    if not sets:
        return 0
    if len(sets) == 1:
        return sets[0].unique
    return len(BitMap.union(*(BitMap.deserialize(bytes(p.uids)) for p in sets)))


def _combine(parts: Sequence[_Block]) -> Metrics:
    totals = [sum(p.counts[i] for p in parts) for i in range(5)]
    return _metrics(totals, union_size(parts))


def _by_owner(found: dict[tuple[int, int, int], _Block]) -> dict[int, list[_Block]]:
    owners: dict[int, list[_Block]] = {}
    for (owner, _level, _block), value in found.items():
        owners.setdefault(owner, []).append(value)
    return owners


def summary(reader: RollupReader, span: DaySpan, channel_ids: Sequence[int] | None) -> Metrics:
    found = reader.blocks(blocks_covering(span.first, span.end), channel_ids)
    return _combine(list(found.values()))


_UIDS = itemgetter(2)
_IN_PLACE_MAX = 16


def _union_rows(rows: Sequence[tuple[Any, ...]]) -> int:
    """Exact unique scanners of block rows: a set only unioned when two or more blocks
    have scanners (most channels have at most one in a window), in one C-level call."""
    sets = [row for row in rows if row[1]]
    if len(sets) <= 1:
        return int(sets[0][1]) if sets else 0
    maps = map(BitMap.deserialize, map(bytes, map(_UIDS, sets)))
    if len(sets) > _IN_PLACE_MAX:  # a group's hundreds of sets: CRoaring's lazy many-way OR
        return len(BitMap.union(*maps))
    union = next(maps)
    for more in maps:  # a channel's few sets: in place, ~10x faster than union(*) here
        union |= more
    return len(union)


def _rows_metrics(rows: Sequence[tuple[Any, ...]]) -> Metrics:
    scans = new = returning = follow_scans = unfollows = 0
    for row in rows:
        scans += row[3]
        new += row[4]
        returning += row[5]
        follow_scans += row[6]
        unfollows += row[7]
    return _metrics((scans, new, returning, follow_scans, unfollows), _union_rows(rows))


def _grouped(rows: list[tuple[Any, ...]]) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    for owner, mine in groupby(rows, key=itemgetter(0)):
        yield int(owner), list(mine)


def per_owner(
    reader: RollupReader, span: DaySpan, channel_ids: Sequence[int], *, every_channel: bool
) -> dict[int, Metrics]:
    """Each channel's metrics (no entry: all zero)."""
    rows = reader.owner_rows(
        blocks_covering(span.first, span.end), channel_ids, every_channel=every_channel
    )
    return {owner: _rows_metrics(mine) for owner, mine in _grouped(rows)}


def per_group(
    reader: RollupReader, span: DaySpan, groups: dict[Any, list[int]]
) -> dict[Any, Metrics]:
    """Each group's metrics: summed counts, the union of its channels' sets."""
    ids = sorted({i for members in groups.values() for i in members})
    if not ids:
        return {}
    owners = dict(
        _grouped(reader.owner_rows(blocks_covering(span.first, span.end), ids, every_channel=True))
    )
    return {
        name: _rows_metrics([row for m in members for row in owners.get(m, ())])
        for name, members in groups.items()
    }


def series(
    reader: RollupReader,
    span: DaySpan,
    bucket_days: Sequence[tuple[int, int]],
    channel_ids: Sequence[int] | None,
) -> list[Metrics]:
    """Each bucket's metrics; ``bucket_days`` are their day ranges (inside the span)."""
    covers = [blocks_covering(first, end) for first, end in bucket_days]
    found = reader.blocks({b for cover in covers for b in cover}, channel_ids)
    owners = sorted({key[0] for key in found})
    result = []
    for cover in covers:
        parts = [found[(o, lv, bl)] for o in owners for lv, bl in cover if (o, lv, bl) in found]
        result.append(_combine(parts))
    return result
