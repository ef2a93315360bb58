"""The audience: followers still following, cumulative, per account and per first-touch
channel, and the follow-source breakdown (docs/metrics.md, "Audience", "Follow-source
breakdown").

```python
query = stats.query("wx123", date_from=date(2024, 5, 1), granularity="day")
AudienceService(engine).audience_of(query)
```
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, or_, select

from wxqr.store.tables import follower_spans, followers

from . import _lookup
from ._buckets import plan_buckets
from ._follower_summary_read import audience_sums, day_plan
from ._model import ChannelRef
from ._query import StatsQuery
from ._spans import refresh
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

    def audience_of(self, query: StatsQuery, *, sources: bool = True) -> Audience:
        """``sources=False``: no follow-source breakdown (its join with ``followers`` is
        the one part that grows with the audience; the dashboard's card needs none)."""
        window = query.window
        start_s, end_s = window.start_s, window.end_s
        timezone = query.timezone or query.account.timezone
        plan = plan_buckets(start_s, end_s, zone(timezone), query.granularity)
        account_id = query.account.id
        refresh(self._engine, account_id)
        s, f = follower_spans.c, followers.c
        last = end_s - 1
        steps = [0] * plan.count  # followers gained (lost) by each point
        by_channel: Counter[int | None] = Counter()
        by_source: Counter[str] = Counter()
        with self._engine.connect() as conn:
            scope_ids = _lookup.scope_channel_ids(conn, account_id, query.channel_ids, query.group)
            refs = _lookup.channel_refs(conn, account_id)
            days_plan = day_plan(conn, account_id, timezone, plan, start_s, end_s)
            if scope_ids != ():
                mine = [s.account_id == account_id]
                if scope_ids is not None:
                    mine.append(s.channel_id.in_(scope_ids))
            if scope_ids != () and days_plan is not None:  # from the per-day summaries
                before, changes, at_end = audience_sums(conn, account_id, scope_ids, days_plan)
                steps[0] += before
                bucket = days_plan.bucket_of()
                for day, change in changes.items():
                    steps[bucket[day]] += change
                by_channel.update(at_end)
            elif scope_ids != ():
                # Following just before the window, counted from the first point on: spans
                # opened before it less those closed before it (index-only counts).
                for column, sign in ((s.span_start, 1), (s.span_end, -1)):
                    steps[0] += (
                        sign
                        * conn.execute(
                            select(func.count()).where(*mine, column < start_s)
                        ).scalar_one()
                    )
                # Spans opening (closing) inside the window: from the point of their bucket.
                for column, sign in ((s.span_start, 1), (s.span_end, -1)):
                    inside = [*mine, column >= start_s, column < end_s]
                    if plan.count > 1:
                        key = plan.index_sql(column)
                        found = conn.execute(select(key, func.count()).where(*inside).group_by(key))
                        for index, count in found:
                            steps[int(index)] += sign * int(count)
                    else:
                        steps[0] += (
                            sign * conn.execute(select(func.count()).where(*inside)).scalar_one()
                        )
                # Per first-touch channel at the end: opened by then less closed by then.
                for column, sign in ((s.span_start, 1), (s.span_end, -1)):
                    found = conn.execute(
                        select(s.channel_id, func.count())
                        .where(*mine, column <= last)
                        .group_by(s.channel_id)
                    )
                    for channel_id, count in found:
                        by_channel[channel_id] += sign * int(count)
            if scope_ids != () and sources:
                # Sources: the known ones by a join from the followers whose user info was
                # fetched; the rest of the audience at the end is "unknown".
                held = (
                    select(s.openid)
                    .where(
                        s.account_id == f.account_id,
                        s.openid == f.openid,
                        *mine[1:],
                        s.span_start <= last,
                        or_(s.span_end.is_(None), s.span_end > last),
                    )
                    .exists()
                )
                known = (
                    select(f.wechat_subscribe_scene, func.count())
                    .where(f.account_id == account_id, f.wechat_subscribe_scene.is_not(None), held)
                    .group_by(f.wechat_subscribe_scene)
                )
                for name, count in conn.execute(known):
                    by_source[str(name)] += int(count)
                by_source[UNKNOWN_SOURCE] += sum(by_channel.values()) - sum(by_source.values())
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
