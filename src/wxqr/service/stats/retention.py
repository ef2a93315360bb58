"""Retention by acquiring channel and the unfollow rate per channel (docs/metrics.md,
"Retention", "Unfollow rate per channel").

```python
query = stats.query("wx123", date_from=date(2024, 1, 1), date_to=date(2024, 3, 24))
RetentionService(engine).retention_of(query, cohort="week", unfollow_days=30)
```
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Integer, case, func, literal_column, select

from wxqr.store.tables import follower_spans

from . import _lookup
from ._buckets import BucketPlan, plan_buckets
from ._errors import InvalidWindow
from ._follower_summary_read import CohortSums, DayPlan, cohort_sums, day_plan
from ._model import ChannelRef, Granularity
from ._query import StatsQuery
from ._spans import refresh
from ._window import zone
from .export import neutralise_csv_text

__all__ = [
    "COHORTS",
    "MAX_UNFOLLOW_DAYS",
    "ChannelUnfollows",
    "Cohort",
    "Retention",
    "RetentionCell",
    "RetentionPoint",
    "RetentionService",
    "pooled_curve",
    "retention_csv",
    "retention_days",
]

_DAY = 86_400
_ONE = literal_column("1", Integer)
_ZERO = literal_column("0", Integer)
COHORTS = (Granularity.DAY, Granularity.WEEK, Granularity.MONTH)
MAX_UNFOLLOW_DAYS = 365
_LAST_PERIOD = 364  # D364: a year of weeks


def retention_days(max_day: int) -> tuple[int, ...]:
    """D1, D7, D30, then each later whole week up to ``max_day`` (at most D364)."""
    later = range(35, min(max_day, _LAST_PERIOD) + 1, 7)
    return (1, 7, 30, *later)


def _rate(part: int | None, whole: int) -> float | None:
    return None if part is None or whole == 0 else part / whole


@dataclass(frozen=True, slots=True)
class RetentionCell:
    """Dn of one cohort: ``retained`` members (None: not every member has reached Dn)."""

    day: int
    retained: int | None
    rate: float | None


@dataclass(frozen=True, slots=True)
class Cohort:
    """Followers whose first follow is in ``[start, end)`` (and in the window)."""

    start: datetime
    end: datetime
    followers: int
    cells: tuple[RetentionCell, ...]


@dataclass(frozen=True, slots=True)
class ChannelUnfollows:
    """The unfollow rate of one first-touch channel (None: followers of no channel)."""

    channel: ChannelRef | None
    new_followers: int
    unfollowed: int

    @property
    def rate(self) -> float | None:
        return _rate(self.unfollowed, self.new_followers)


@dataclass(frozen=True, slots=True)
class Retention:
    cohort: Granularity
    days: tuple[int, ...]
    unfollow_days: int
    cohorts: list[Cohort]
    channels: list[ChannelUnfollows]


@dataclass(frozen=True, slots=True)
class RetentionPoint:
    """Dn over every cohort that has reached it: ``retained`` of ``followers``."""

    day: int
    retained: int
    followers: int

    @property
    def rate(self) -> float | None:
        return _rate(self.retained, self.followers)


def pooled_curve(answer: Retention) -> list[RetentionPoint]:
    """One retention curve for the whole window (what a channel page shows): per Dn, the
    members still following of the cohorts that have reached Dn, over those cohorts'
    members. Dn no member has reached yet are left out."""
    curve = []
    for j, day in enumerate(answer.days):
        reached = [c for c in answer.cohorts if c.cells[j].retained is not None]
        followers = sum(c.followers for c in reached)
        if followers:
            retained = sum(c.cells[j].retained or 0 for c in reached)
            curve.append(RetentionPoint(day, retained, followers))
    return curve


def _cohort_unit(value: Granularity | str) -> Granularity:
    try:
        unit = Granularity(value)
    except ValueError:
        unit = None
    if unit not in COHORTS:
        names = ", ".join(g.value for g in COHORTS)
        raise InvalidWindow(f"unknown cohort {value!r} (choose from {names})", field="cohort")
    assert unit is not None
    return unit


class RetentionService:
    """Cohorts by first follow and their retention; one short connection per call.

    ``clock`` (Unix seconds) decides which Dn have been reached.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def retention_of(
        self,
        query: StatsQuery,
        *,
        cohort: Granularity | str = Granularity.WEEK,
        unfollow_days: int = 30,
    ) -> Retention:
        unit = _cohort_unit(cohort)
        if not 1 <= unfollow_days <= MAX_UNFOLLOW_DAYS:
            raise InvalidWindow(
                f"unfollow_days must be 1 … {MAX_UNFOLLOW_DAYS}", field="unfollow_days"
            )
        window = query.window
        start_s, end_s = window.start_s, window.end_s
        timezone = query.timezone or query.account.timezone
        plan = plan_buckets(start_s, end_s, zone(timezone), unit)
        now = int(self._clock())
        ends = [min(plan.starts[i + 1], end_s) for i in range(plan.count)]
        days = retention_days((now - ends[0]) // _DAY)
        refresh(self._engine, query.account.id)
        s = follower_spans.c
        with self._engine.connect() as conn:
            scope_ids = _lookup.scope_channel_ids(
                conn, query.account.id, query.channel_ids, query.group
            )
            refs = _lookup.channel_refs(conn, query.account.id)
            rows: list[tuple[Any, ...]] = []
            days_plan = day_plan(conn, query.account.id, timezone, plan, start_s, end_s)
            if scope_ids != () and days_plan is not None:
                sums = cohort_sums(conn, query.account.id, scope_ids, days_plan, unfollow_days)
                sizes, retained = _from_sums(sums, days_plan, days, plan.count)
                return _answer(
                    unit,
                    days,
                    unfollow_days,
                    plan,
                    ends,
                    now,
                    sizes,
                    retained,
                    refs,
                    scope_ids,
                    sums.channels,
                )
            if scope_ids != ():
                where = [
                    s.account_id == query.account.id,
                    s.first_follow_at >= start_s,
                    s.first_follow_at < end_s,
                ]
                if scope_ids is not None:
                    where.append(s.channel_id.in_(scope_ids))
                keys: list[Any] = [s.channel_id, *_day_keys()]
                if plan.count > 1:  # (one bucket: no constant key to group by)
                    keys.insert(0, plan.index_sql(s.first_follow_at))
                found = conn.execute(select(*keys, func.count()).where(*where).group_by(*keys))
                rows = [tuple(row) if plan.count > 1 else (0, *row) for row in found]
        sizes = [0] * plan.count
        retained = [[0] * len(days) for _ in range(plan.count)]
        per_channel: dict[int | None, list[int]] = {}
        for index, channel_id, first, opens, closes, count in rows:
            i, n = int(index), int(count)
            counts = per_channel.setdefault(channel_id, [0, 0])
            if first:
                sizes[i] += n
                counts[0] += n
                if closes is not None and closes <= unfollow_days:
                    counts[1] += n
            for j, day in enumerate(days):
                if opens <= day and (closes is None or day < closes):
                    retained[i][j] += n
        return _answer(
            unit,
            days,
            unfollow_days,
            plan,
            ends,
            now,
            sizes,
            retained,
            refs,
            scope_ids,
            per_channel,
        )


def _from_sums(
    sums: CohortSums, days_plan: DayPlan, days: tuple[int, ...], count: int
) -> tuple[list[int], list[list[int]]]:
    """Cohort sizes and retained members per Dn from the summaries' per-day sums."""
    bucket = days_plan.bucket_of()
    sizes = [0] * count
    retained = [[0] * len(days) for _ in range(count)]
    for day, moves in sums.moves.items():
        i = bucket[day]
        sizes[i] += sums.members.get(day, 0)
        offsets = sorted(moves)
        held, k = 0, 0
        for j, n in enumerate(days):  # days ascend: a running sum over offsets <= n
            while k < len(offsets) and offsets[k] <= n:
                held += moves[offsets[k]]
                k += 1
            retained[i][j] += held
    return sizes, retained


def _answer(
    unit: Granularity,
    days: tuple[int, ...],
    unfollow_days: int,
    plan: BucketPlan,
    ends: list[int],
    now: int,
    sizes: list[int],
    retained: list[list[int]],
    refs: list[ChannelRef],
    scope_ids: tuple[int, ...] | None,
    per_channel: dict[int | None, list[int]],
) -> Retention:
    cohorts = []
    for i in range(plan.count):
        start, end = plan.bounds(i)
        cells = []
        for j, day in enumerate(days):
            reached = ends[i] + day * _DAY <= now
            value = retained[i][j] if reached else None
            cells.append(RetentionCell(day, value, _rate(value, sizes[i])))
        cohorts.append(Cohort(start, end, sizes[i], tuple(cells)))
    return Retention(
        unit, days, unfollow_days, cohorts, _channel_rows(refs, scope_ids, per_channel)
    )


def _day_keys() -> list[ColumnElement[Any]]:
    """Per span: is it the first follow's (``seq`` 0), the first whole day n it holds
    ``first_follow_at + n days`` (``ceil((start - first) / day)``), and the first it no
    longer does (``ceil((end - first) / day)``, NULL: open). Day n is held when
    ``opens <= n < closes``; the member unfollowed within N days when its first span has
    ``closes <= N``. Few distinct values: the table is grouped by them, not evaluated per
    day and row."""
    s = follower_spans.c
    day = literal_column(str(_DAY), Integer)
    first = case((s.seq == 0, _ONE), else_=_ZERO)
    opens = (s.span_start - s.first_follow_at + day - 1) // day
    closes = (s.span_end - s.first_follow_at + day - 1) // day
    return [first, opens, closes]


def _channel_rows(
    refs: list[ChannelRef],
    scope_ids: tuple[int, ...] | None,
    counts: dict[int | None, list[int]],
) -> list[ChannelUnfollows]:
    """Every channel of the scope (zero-filled); the account adds the no-channel row."""
    wanted = set(scope_ids) if scope_ids is not None else None
    rows = [
        ChannelUnfollows(ref, *counts.get(ref.id, [0, 0]))
        for ref in refs
        if wanted is None or ref.id in wanted
    ]
    if scope_ids is None:
        rows.append(ChannelUnfollows(None, *counts.get(None, [0, 0])))
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):  # a channel's name: never a formula to a spreadsheet
        return neutralise_csv_text(value)
    return str(value)


def retention_csv(answer: Retention, table: str = "cohorts") -> bytes:
    """The cohorts (one row per cohort: size, then retained and rate per Dn; empty where
    not reached) or the channels' unfollow rates, as CSV with a byte-order mark (so a
    spreadsheet reads the Chinese names right)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    if table == "cohorts":
        header = ["cohort_start", "cohort_end", "followers"]
        for day in answer.days:
            header += [f"d{day}_retained", f"d{day}_rate"]
        writer.writerow(header)
        for cohort in answer.cohorts:
            row: list[object] = [cohort.start, cohort.end, cohort.followers]
            for cell in cohort.cells:
                row += [cell.retained, cell.rate]
            writer.writerow([_cell(value) for value in row])
    elif table == "channels":
        writer.writerow(
            ["channel_id", "channel", "group", "new_followers", "unfollowed", "unfollow_rate"]
        )
        for item in answer.channels:
            ref = item.channel
            writer.writerow(
                [
                    _cell(ref.id if ref else None),
                    _cell(ref.name if ref else None),
                    _cell(ref.group if ref else None),
                    _cell(item.new_followers),
                    _cell(item.unfollowed),
                    _cell(item.rate),
                ]
            )
    else:
        raise InvalidWindow(
            f"unknown table {table!r} (choose from cohorts, channels)", field="table"
        )
    return buffer.getvalue().encode("utf-8-sig")
