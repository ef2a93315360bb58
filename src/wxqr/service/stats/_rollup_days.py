"""Local day numbers and the aligned day blocks the rollups keep scanner sets for.

A *day* is a local calendar day of the account's zone, numbered from 1970-01-01. The
unique-scanner sets are kept per aligned block of ``4**level`` days (``LEVELS``): any
range of days is the union of a few blocks (at most six per level), so a 90-day window
reads about a dozen sets per channel instead of ninety.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ._window import local_midnight, unix_ceil

__all__ = ["LEVELS", "DayMapper", "blocks_covering", "date_of_day", "day_of_date"]

LEVELS = (0, 1, 2, 3)  # blocks of 1, 4, 16 and 64 days
_EPOCH_DAY = date(1970, 1, 1)
_SLOT = 900  # offsets change on quarter hours (checked per slot, exact either way)


def day_of_date(day: date) -> int:
    return (day - _EPOCH_DAY).days


def date_of_day(day: int) -> date:
    return _EPOCH_DAY + timedelta(days=day)


class DayMapper:
    """``day(t)``: the local day number of Unix second ``t`` in ``tz`` (cached offsets)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[int, int | None] = {}

    def _offset(self, t: int) -> int:
        off = datetime.fromtimestamp(t, self.tz).utcoffset()
        assert off is not None
        return int(off.total_seconds())

    def day(self, t: int) -> int:
        slot = t // _SLOT
        try:
            offset = self._offsets[slot]
        except KeyError:
            first, last = self._offset(slot * _SLOT), self._offset(slot * _SLOT + _SLOT - 1)
            offset = first if first == last else None
            self._offsets[slot] = offset
        if offset is None:
            offset = self._offset(t)
        return (t + offset) // 86_400

    def midnight(self, day: int) -> int:
        """The first Unix second of local ``day``."""
        return unix_ceil(local_midnight(date_of_day(day), self.tz))


def blocks_covering(first: int, end: int) -> list[tuple[int, int]]:
    """``[(level, block), …]``: aligned blocks whose union is exactly days ``[first, end)``."""
    out: list[tuple[int, int]] = []
    day = first
    while day < end:
        level = LEVELS[-1]
        while level > 0 and (day % 4**level or day + 4**level > end):
            level -= 1
        out.append((level, day // 4**level))
        day += 4**level
    return out
