"""The audience: followers still following, cumulative, per account and per first-touch
channel, and the follow-source breakdown (docs/metrics.md, "Audience", "Follow-source
breakdown").

```python
query = stats.query("wx123", date_from=date(2024, 5, 1), granularity="day")
AudienceService(engine).audience_of(query)
```
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func

from wxqr.store.tables import followers

from . import _lookup
from ._buckets import plan_buckets
from ._members import History, Range, steady_counts, unsteady_histories
from ._model import ChannelRef
from ._query import StatsQuery
from ._window import zone

__all__ = [
    "UNKNOWN_SOURCE",
    "Audience",
    "AudiencePoint",
    "AudienceService",
    "ChannelAudience",
    "SourceCount",
]

#: The follow source of followers whose user info wxqr has not fetched (yet).
UNKNOWN_SOURCE = "unknown"


@dataclass(frozen=True, slots=True)
class AudiencePoint:
    """Followers following at the last second of ``[start, end)`` (within the window)."""

    start: datetime
    end: datetime
    followers: int


@dataclass(frozen=True, slots=True)
class ChannelAudience:
    """Followers at the end of the window acquired through ``channel`` (None: no channel)."""

    channel: ChannelRef | None
    followers: int


@dataclass(frozen=True, slots=True)
class SourceCount:
    """Followers at the end of the window whose WeChat ``subscribe_scene`` is ``source``."""

    source: str
    followers: int


@dataclass(frozen=True, slots=True)
class Audience:
    points: list[AudiencePoint]
    channels: list[ChannelAudience]
    sources: list[SourceCount]

    @property
    def followers(self) -> int:
        """The audience at the end of the window."""
        return self.points[-1].followers if self.points else 0


class AudienceService:
    """Who is following, over time; one short connection per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def audience_of(self, query: StatsQuery) -> Audience:
        window = query.window
        start_s, end_s = window.start_s, window.end_s
        plan = plan_buckets(
            start_s, end_s, zone(query.timezone or query.account.timezone), query.granularity
        )
        # The instant each point is read at: the bucket's last second, within the window.
        at = [min(plan.starts[i + 1], end_s) - 1 for i in range(plan.count)]
        account_id = query.account.id
        f = followers.c
        with self._engine.connect() as conn:
            scope_ids = _lookup.scope_channel_ids(conn, account_id, query.channel_ids, query.group)
            refs = _lookup.channel_refs(conn, account_id)
            steps = [0] * (plan.count + 1)  # followers gained (lost) at each point
            by_channel: Counter[int | None] = Counter()
            by_source: Counter[str] = Counter()
            if scope_ids != ():
                before = Range(account_id, None, start_s, scope_ids)
                inside = Range(account_id, start_s, end_s, scope_ids)
                steps[0] += sum(int(row[-1]) for row in steady_counts(conn, before, []))
                if plan.count > 1:
                    bucket = plan.index_sql(f.first_follow_at)
                    for index, count in steady_counts(conn, inside, [bucket]):
                        steps[int(index)] += int(count)
                else:
                    steps[0] += sum(int(row[-1]) for row in steady_counts(conn, inside, []))
                everyone = Range(account_id, None, end_s, scope_ids)
                keys = [f.first_channel_id, func.coalesce(f.wechat_subscribe_scene, UNKNOWN_SOURCE)]
                for channel_id, source, count in steady_counts(conn, everyone, keys):
                    by_channel[channel_id] += int(count)
                    by_source[str(source)] += int(count)
                histories = unsteady_histories(conn, everyone)
            else:
                histories = []
        _replay(histories, at, steps, by_channel, by_source)
        points, total = [], 0
        for i in range(plan.count):
            total += steps[i]
            start, end = plan.bounds(i)
            points.append(AudiencePoint(start, end, total))
        return Audience(
            points,
            _channel_rows(refs, scope_ids, by_channel),
            [SourceCount(name, n) for name, n in sorted(by_source.items(), key=_by_size) if n],
        )


def _by_size(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _replay(
    histories: list[History],
    at: list[int],
    steps: list[int],
    by_channel: Counter[int | None],
    by_source: Counter[str],
) -> None:
    """Add the followers read from the log: each change of state counts from the first
    point read at or after it."""
    if not at:
        return
    last = at[-1]
    for history in histories:
        for when, change in history.flips():
            if when > last:
                break
            steps[bisect_left(at, when)] += change
        if history.following_through(last):
            by_channel[history.channel_id] += 1
            by_source[history.source or "unknown"] += 1


def _channel_rows(
    refs: list[ChannelRef], scope_ids: tuple[int, ...] | None, counts: Counter[int | None]
) -> list[ChannelAudience]:
    wanted = set(scope_ids) if scope_ids is not None else None
    rows = [
        ChannelAudience(ref, counts.get(ref.id, 0))
        for ref in refs
        if wanted is None or ref.id in wanted
    ]
    if scope_ids is None:
        rows.append(ChannelAudience(None, counts.get(None, 0)))
    return rows
