"""Rebuilding an account's rollups from a day on (``wxqr stats rebuild --from DATE``).

Only the days from ``DATE`` are read again, so a repair of last week does not refold a
year of history. The rebuilt range starts at the top level's block boundary at or before
``DATE`` (a multiple of ``4**LEVELS[-1]`` days): every block of every level then lies wholly
before it (kept) or wholly at or after it (dropped and refolded), so no block mixes kept and
refolded days. The users whose stored first follow is in the range are reset first (their
first follow is found again by the refold); a user's first follow before the range is kept,
so later follows stay *returning*. Each user's latest follow (the last-touch channel) and
latest follow or unfollow are set back to what they were before the range, from the log,
so the refold credits the range's unfollows under both attribution models as a whole
rebuild would. Exact, with the invariant of :mod:`._rollup_fold`:
queued events of the range leave the queue (the refold read them), queued events before it
stay queued and are folded next, with the ordinary late-event rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from wxqr.store.tables import (
    channels,
    events,
    stats_account_blocks,
    stats_channel_blocks,
    stats_pending,
    stats_rollup_state,
    stats_users,
)

from ._rollup_days import LEVELS, DayMapper, day_of_date
from ._rollup_fold import (
    _FOLLOW,
    _Accumulator,
    _chunks,
    _state,
    _User,
    _user_values,
    _write_blocks,
)
from ._sql import COUNTED_KINDS

__all__ = ["range_start", "rebuild_account_from"]

_TOP = 4 ** LEVELS[-1]


def range_start(since: date) -> int:
    """The first day refolded for ``--from since``: the top-level block boundary at or
    before it."""
    return int(day_of_date(since) // _TOP * _TOP)


def rebuild_account_from(
    conn: Connection,
    account_id: int,
    since: date,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int | None:
    """Refold the account's days from ``since`` (see the module); how many events were
    folded, or None when the account has no usable rollups (the caller rebuilds whole)."""
    state = _state(conn, account_id)
    if state is None:
        return None
    zone_name, next_uid = state
    days = DayMapper(ZoneInfo(zone_name))
    first_day = range_start(since)
    start_s = days.midnight(first_day)
    _drop_blocks_from(conn, account_id, first_day)
    u = stats_users
    conn.execute(
        update(u)
        .where(u.c.account_id == account_id, u.c.first_follow_time >= start_s)
        .values(
            first_follow_time=None,
            first_follow_id=None,
            first_follow_day=None,
            first_follow_channel_id=None,
        )
    )
    in_range = and_(
        events.c.account_id == account_id,
        events.c.kind.in_(COUNTED_KINDS),
        events.c.create_time >= start_s,
    )
    conn.execute(
        delete(stats_pending).where(
            stats_pending.c.event_id.in_(select(events.c.id).where(in_range))
        )
    )
    users = _all_users(conn, account_id)
    _rewind_touches(conn, account_id, start_s, users)
    total = int(conn.execute(select(func.count()).where(in_range)).scalar() or 0)
    acc = _Accumulator(account_id, ZoneInfo(zone_name))
    query = (
        select(
            events.c.id, events.c.kind, events.c.openid, events.c.create_time, events.c.channel_id
        )
        .where(in_range)
        .order_by(events.c.create_time, events.c.id)
    )
    done = 0
    result = conn.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})
    for event_id, kind, openid, create_time, channel_id in result:
        user = users.get(openid)
        if user is None:
            user = users[openid] = _User(next_uid, None, None, None, stored=False)
            next_uid += 1
        acc.add(user, kind, create_time, event_id, channel_id)
        done += 1
        if progress is not None and done % 100_000 == 0:
            progress(done, total)
    _write_users(conn, account_id, users)
    _write_blocks(conn, acc, fresh=True)
    conn.execute(
        update(stats_rollup_state)
        .where(stats_rollup_state.c.account_id == account_id)
        .values(next_uid=next_uid)
    )
    if progress is not None:
        progress(done, total)
    return done


def _drop_blocks_from(conn: Connection, account_id: int, first_day: int) -> None:
    """Delete the blocks (every level) starting at or after ``first_day`` (top-aligned)."""
    mine = select(channels.c.id).where(channels.c.account_id == account_id)
    for level in LEVELS:
        first_block = first_day // 4**level
        a, c = stats_account_blocks, stats_channel_blocks
        conn.execute(
            delete(a).where(
                a.c.account_id == account_id, a.c.level == level, a.c.block >= first_block
            )
        )
        conn.execute(
            delete(c).where(c.c.channel_id.in_(mine), c.c.level == level, c.c.block >= first_block)
        )


def _all_users(conn: Connection, account_id: int) -> dict[str, _User]:
    u = stats_users
    query = select(
        u.c.openid,
        u.c.uid,
        u.c.first_follow_time,
        u.c.first_follow_id,
        u.c.first_follow_day,
        u.c.first_follow_channel_id,
        u.c.last_follow_channel_id,
        u.c.last_touch_time,
        u.c.last_touch_id,
    ).where(u.c.account_id == account_id)
    found: dict[str, _User] = {}
    for row in conn.execute(query, execution_options={"yield_per": 50_000}):
        first = None if row[2] is None else (int(row[2]), int(row[3]))
        touch = None if row[7] is None else (int(row[7]), int(row[8]))
        found[str(row[0])] = _User(
            int(row[1]), first, row[4], row[5], stored=True, last_channel=row[6], touch=touch
        )
    return found


def _rewind_touches(
    conn: Connection, account_id: int, start_s: int, users: dict[str, _User]
) -> None:
    """Set back the latest follow and touch of the users touched in the range to the
    last ones before it (None: none), read from the log for those users only."""
    u, e = stats_users, events
    touched = {
        openid
        for openid, user in users.items()
        if user.touch is not None and user.touch[0] >= start_s
    }
    if not touched:
        return
    for openid in touched:
        user = users[openid]
        user.touch, user.last_channel, user.changed = None, None, True
    query = (
        select(e.c.openid, e.c.kind, e.c.channel_id, e.c.create_time, e.c.id)
        .select_from(e.join(u, and_(u.c.account_id == e.c.account_id, u.c.openid == e.c.openid)))
        .where(
            e.c.account_id == account_id,
            u.c.last_touch_time >= start_s,
            e.c.create_time < start_s,
            e.c.kind.in_((*sorted(_FOLLOW), "unsubscribe")),
        )
        .order_by(e.c.create_time, e.c.id)
    )
    for openid, kind, channel_id, create_time, event_id in conn.execute(
        query, execution_options={"yield_per": 50_000}
    ):
        if str(openid) not in touched:
            continue
        user = users[str(openid)]
        user.touch = (int(create_time), int(event_id))
        if kind in _FOLLOW:
            user.last_channel = None if channel_id is None else int(channel_id)


def _write_users(conn: Connection, account_id: int, users: dict[str, _User]) -> None:
    """New users inserted, changed ones updated: both in batches (executemany)."""
    new = [_user_values(account_id, o, u) for o, u in users.items() if not u.stored]
    for chunk in _chunks(new, 20_000):
        conn.execute(insert(stats_users), list(chunk))
    changed: list[dict[str, Any]] = []
    for openid, user in users.items():
        if user.stored and user.changed:
            values = _user_values(account_id, openid, user)
            changed.append({f"v_{k}": v for k, v in values.items()})
    u = stats_users
    statement = (
        update(u)
        .where(u.c.account_id == bindparam("v_account_id"), u.c.openid == bindparam("v_openid"))
        .values(
            {
                name: bindparam(f"v_{name}")
                for name in (
                    "first_follow_time",
                    "first_follow_id",
                    "first_follow_day",
                    "first_follow_channel_id",
                    "last_follow_channel_id",
                    "last_touch_time",
                    "last_touch_id",
                )
            }
        )
    )
    for chunk in _chunks(changed, 20_000):
        conn.execute(statement, list(chunk))
