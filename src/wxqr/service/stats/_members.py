"""Followers as the audience and retention answers see them (docs/metrics.md, "Following
at an instant"): when each openid first followed, through which channel, and when it was
following afterwards.

The ``followers`` row of an openid (kept by the ingest, order-tolerant) gives the first
follow and its channel. A row whose ``last_follow_at`` equals ``first_follow_at`` and that
has no ``unfollowed_at`` provably has no unfollow at or after its first follow (the ingest
never clears ``unfollowed_at``; an unfollow it ignores is older than a later follow, which
would move ``last_follow_at``): such a *steady* follower is following from its first follow
on, and is counted in SQL. Every other follower's follows and unfollows are read from the
log (through the ``(account_id, openid, create_time)`` index) and replayed here, exactly.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, not_, select

from wxqr.store.tables import events, followers

from ._sql import FOLLOW_KINDS, UNFOLLOW_KIND

__all__ = [
    "History",
    "Range",
    "steady_counts",
    "unsteady_histories",
]

_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Range:
    """Followers of an account whose first follow is in ``[start, end)`` (``start`` None:
    since ever) and whose first-touch channel is in ``channel_ids`` (None: any, no channel
    included)."""

    account_id: int
    start: int | None
    end: int
    channel_ids: tuple[int, ...] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        f = followers.c
        found: list[ColumnElement[bool]] = [
            f.account_id == self.account_id,
            f.first_follow_at < self.end,
        ]
        if self.start is not None:
            found.append(f.first_follow_at >= self.start)
        else:
            found.append(f.first_follow_at.is_not(None))
        if self.channel_ids is not None:
            found.append(f.first_channel_id.in_(self.channel_ids))
        return found


def _steady() -> ColumnElement[bool]:
    f = followers.c
    return and_(f.last_follow_at == f.first_follow_at, f.unfollowed_at.is_(None))


@dataclass(frozen=True, slots=True)
class History:
    """One openid's follows and unfollows from its first follow on, in log order.

    ``changes`` holds ``(create_time, following_after)`` pairs; the first is the first
    follow. ``channel_id`` is the first-touch channel, ``source`` WeChat's
    ``subscribe_scene`` (None: not fetched).
    """

    openid: str
    channel_id: int | None
    source: str | None
    changes: tuple[tuple[int, bool], ...]

    @property
    def first_follow_at(self) -> int:
        return self.changes[0][0]

    def following_through(self, t: int) -> bool:
        """Following after every follow/unfollow with ``create_time <= t``."""
        times = [at for at, _ in self.changes]
        i = bisect_right(times, t)
        return i > 0 and self.changes[i - 1][1]

    def unfollowed_by(self, t: int) -> bool:
        """An unfollow after the first follow, with ``create_time <= t``."""
        return any(not following and at <= t for at, following in self.changes[1:])

    def flips(self) -> Iterator[tuple[int, int]]:
        """``(create_time, +1 | -1)`` where the following state changes (from not
        following before the first follow)."""
        state = False
        for at, following in self.changes:
            if following != state:
                yield at, 1 if following else -1
                state = following


def steady_counts(
    conn: Connection, scope: Range, keys: Sequence[ColumnElement[Any]]
) -> list[tuple[Any, ...]]:
    """``(*keys, count)`` of the steady followers of ``scope``, grouped by ``keys``
    (expressions over the ``followers`` table); one row ``(count,)`` without keys."""
    labelled = [key.label(f"k{i}") for i, key in enumerate(keys)]
    query = select(*labelled, func.count().label("n")).where(*scope.where(), _steady())
    if labelled:
        query = query.group_by(*labelled)
    return [tuple(row) for row in conn.execute(query)]


def unsteady_histories(conn: Connection, scope: Range) -> list[History]:
    """The histories of the other followers of ``scope``, replayed from the log."""
    f, e = followers.c, events.c
    query = (
        select(
            f.openid,
            f.wechat_subscribe_scene,
            e.kind,
            e.create_time,
            e.channel_id,
        )
        .select_from(
            followers.join(events, and_(e.account_id == f.account_id, e.openid == f.openid))
        )
        .where(
            *scope.where(),
            not_(_steady()),
            e.account_id == scope.account_id,
            e.kind.in_((*FOLLOW_KINDS, UNFOLLOW_KIND)),
        )
        .order_by(f.openid, e.create_time, e.id)
    )
    found: list[History] = []
    current: str | None = None
    source: str | None = None
    channel: int | None = None
    changes: list[tuple[int, bool]] = []

    def close() -> None:
        if current is not None and changes:
            found.append(History(current, channel, source, tuple(changes)))

    for openid, scene, kind, at, channel_id in conn.execute(query):
        if openid != current:
            close()
            current, source, changes = openid, scene, []
        following = kind != UNFOLLOW_KIND
        if not changes:
            if not following:
                continue  # an unfollow before the first follow: followed before wxqr
            channel = channel_id if kind == "subscribe_scan" else None
        changes.append((int(at), following))
    close()
    return found
