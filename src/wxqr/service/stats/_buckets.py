"""Series buckets in a time zone: their boundaries (Python) and the row → bucket map (SQL).

The boundaries are computed here with ``zoneinfo``; the database only does integer
arithmetic on ``create_time`` (Unix seconds), so the same SQL is exact on SQLite and
PostgreSQL and needs no time-zone support in the database:

- ``hour``: ``(t - anchor) / 3600`` — real hours from the local hour containing the start;
- ``day`` / ``week``: ``(t + offset(t) - anchor_local) / 86400`` (or 604800), where
  ``offset(t)`` is the zone's UTC offset, a constant or, across DST changes, a short
  ``CASE`` over the transitions inside the window: ``t + offset(t)`` is the local wall
  clock in seconds, so this is the local date exactly as ``zoneinfo`` gives it;
- ``month``, ``quarter``, ``year``: a ``CASE`` over the (few) boundaries, each a local
  midnight computed by ``zoneinfo`` (so DST never moves them).

All numerators are non-negative, so integer division is floor division on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, case, literal_column

from ._errors import InvalidWindow
from ._model import Granularity
from ._window import local_midnight, unix_ceil

__all__ = ["MAX_BUCKETS", "BucketPlan", "plan_buckets"]

MAX_BUCKETS = 10_000
_EPOCH_DAY = date(1970, 1, 1)
_OFFSET_PROBE_STEP = 6 * 3600  # zones never change offset twice within six hours
_MONTHS_PER_BUCKET = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.YEAR: 12}


def _int(value: int) -> ColumnElement[int]:
    """An integer inlined into the SQL (all are computed here, never user text)."""
    return literal_column(str(int(value)), BigInteger)


def _offset(t: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(t, tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def offset_segments(start_s: int, end_s: int, tz: ZoneInfo) -> list[tuple[int, int]]:
    """``[(from_second, utc_offset_seconds), …]`` covering ``[start_s, end_s)``."""
    segments = [(start_s, _offset(start_s, tz))]
    probes = [*range(start_s + _OFFSET_PROBE_STEP, end_s, _OFFSET_PROBE_STEP), end_s - 1]
    previous = start_s
    for probe in probes:
        if probe <= previous:
            continue
        current = _offset(probe, tz)
        if current != segments[-1][1]:
            low, high = previous, probe  # offset(low) is the old one, offset(high) the new
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(middle, tz) == current:
                    high = middle
                else:
                    low = middle
            segments.append((high, current))
        previous = probe
    return segments


def _local_seconds(
    column: ColumnElement[int], segments: tuple[tuple[int, int], ...]
) -> ColumnElement[int]:
    if len(segments) == 1:
        return column + _int(segments[0][1])
    whens = [
        (column < _int(segments[i + 1][0]), _int(segments[i][1])) for i in range(len(segments) - 1)
    ]
    return column + case(*whens, else_=_int(segments[-1][1]))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class BucketPlan:
    """``starts[i] … starts[i + 1]`` (Unix seconds) is bucket ``i``.

    Rows map to buckets by ``(t + offset(t) - anchor) / unit`` (``segments`` give the
    offset; empty for plain ``(t - anchor) / unit``), or, when ``unit`` is 0 (months), by a
    ``CASE`` over ``starts``.
    """

    tz: ZoneInfo
    starts: tuple[int, ...]  # one more than the number of buckets: the last is the end
    anchor: int
    unit: int
    segments: tuple[tuple[int, int], ...]

    @property
    def count(self) -> int:
        return len(self.starts) - 1

    def bounds(self, i: int) -> tuple[datetime, datetime]:
        return (
            datetime.fromtimestamp(self.starts[i], self.tz),
            datetime.fromtimestamp(self.starts[i + 1], self.tz),
        )

    def index_sql(self, column: ColumnElement[int]) -> ColumnElement[int]:
        """The bucket index of ``column`` (a ``create_time`` inside the window).

        Never a bare constant: with one bucket, query without grouping instead.
        """
        if self.unit:
            local = _local_seconds(column, self.segments) if self.segments else column
            return (local - _int(self.anchor)) // _int(self.unit)
        last = self.count - 1
        whens = [(column < _int(self.starts[i + 1]), _int(i)) for i in range(last)]
        return case(*whens, else_=_int(last))


def _check_count(count: int) -> None:
    if count > MAX_BUCKETS:
        raise InvalidWindow(f"a series may have at most {MAX_BUCKETS} buckets, this one {count}")


def _calendar_plan(
    start_s: int, end_s: int, tz: ZoneInfo, first: date, step_days: int
) -> BucketPlan:
    last = datetime.fromtimestamp(end_s - 1, tz).date()
    count = (last - first).days // step_days + 1
    _check_count(count)
    days = [first + timedelta(days=step_days * i) for i in range(count + 1)]
    starts = tuple(unix_ceil(local_midnight(day, tz)) for day in days)
    anchor_local = (first - _EPOCH_DAY).days * 86_400
    segments = tuple(offset_segments(start_s, end_s, tz))
    return BucketPlan(tz, starts, anchor_local, step_days * 86_400, segments)


def plan_buckets(start_s: int, end_s: int, tz: ZoneInfo, granularity: Granularity) -> BucketPlan:
    """The buckets covering ``[start_s, end_s)`` in ``tz``."""
    local_start = datetime.fromtimestamp(start_s, tz)
    if granularity is Granularity.HOUR:
        anchor = unix_ceil(local_start.replace(minute=0, second=0, microsecond=0))
        count = (end_s - anchor + 3599) // 3600
        _check_count(count)
        starts = tuple(anchor + 3600 * i for i in range(count + 1))
        return BucketPlan(tz, starts, anchor, 3600, ())
    if granularity is Granularity.DAY:
        return _calendar_plan(start_s, end_s, tz, local_start.date(), 1)
    if granularity is Granularity.WEEK:
        monday = local_start.date() - timedelta(days=local_start.weekday())
        return _calendar_plan(start_s, end_s, tz, monday, 7)
    step = _MONTHS_PER_BUCKET[granularity]
    start_day = local_start.date()
    # The first month of the bucket holding the start: January, April… for quarters.
    first = date(start_day.year, start_day.month - (start_day.month - 1) % step, 1)
    last = datetime.fromtimestamp(end_s - 1, tz).date()
    months = (last.year - first.year) * 12 + last.month - first.month
    count = months // step + 1
    _check_count(count)
    starts = tuple(_month_start_s(first, step * i, end_s, tz) for i in range(count + 1))
    return BucketPlan(tz, starts, 0, 0, ())


def _month_start_s(first: date, months: int, end_s: int, tz: ZoneInfo) -> int:
    """The local midnight starting the month ``months`` after ``first`` (the window's end
    when that month is past year 9999, the last date there is)."""
    try:
        return unix_ceil(local_midnight(_add_months(first, months), tz))
    except ValueError:
        return end_s
