"""Folding events into the rollups: the queue's tail (``fold_pending``) or a whole
account's log (``rebuild_account``), with the same per-event rules.

The invariant: for an account with a ``stats_rollup_state`` row (built in the zone the
row names), the rollup tables equal the metrics of docs/metrics.md over every counted
event of the account that is not in ``stats_pending``. Scans, unfollows and unique-scanner
sets do not depend on arrival order (counts and set unions); new/returning depends only on
which follow is the openid's first, so a follow older than the stored first one moves one
count of the old first follow's day from *new* to *returning* — exact whatever the order.
Unfollows are credited by both models (``unfollows``: first touch, ``unfollows_last_touch``:
last touch, see ``_attribution``); a follow or unfollow older than the user's latest folded
one (a late push) may move them, so that user's unfollow credits are recomputed from the
log: the old ones (events folded before) subtracted, the new ones (with the batch) added.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pyroaring import BitMap
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)

from wxqr.store.tables import (
    accounts,
    channels,
    events,
    stats_account_blocks,
    stats_channel_blocks,
    stats_pending,
    stats_rollup_state,
    stats_users,
)

from ._attribution import Touch, unfollow_touches
from ._rollup_days import LEVELS, DayMapper
from ._sql import COUNTED_KINDS, FOLLOW_KINDS, SCAN_KINDS
from ._window import DEFAULT_TIMEZONE

__all__ = ["FOLD_BATCH", "fold_pending", "rebuild_account"]

FOLD_BATCH = 20_000
_CHUNK = 500  # bound parameters per IN list
_SCAN = frozenset(SCAN_KINDS)
_FOLLOW = frozenset(FOLLOW_KINDS)
# Day-count columns, in the order of an Accumulator cell.
_COUNTS = (
    "scans",
    "new_followers",
    "returning_followers",
    "unfollows",
    "unfollows_last_touch",
    "follow_scans",
)

Owner = tuple[bool, int]  # (is_channel, account or channel id)


@dataclass(slots=True)
class _User:
    uid: int
    first: tuple[int, int] | None  # (create_time, id) of the first follow folded
    first_day: int | None
    first_channel: int | None
    stored: bool  # a stats_users row exists
    changed: bool = False
    last_channel: int | None = None  # the channel of the latest follow folded
    touch: tuple[int, int] | None = None  # the latest follow or unfollow folded
    late: bool = False  # this batch has a follow/unfollow older than ``touch``


class _Accumulator:
    """Count deltas per (owner, day) and scanner uids per (owner, day)."""

    def __init__(self, account_id: int, tz: ZoneInfo) -> None:
        self.account_id = account_id
        self.days = DayMapper(tz)
        self.counts: dict[tuple[Owner, int], list[int]] = {}
        self.scanners: dict[tuple[Owner, int], list[int]] = {}

    def _cell(self, owner: Owner, day: int) -> list[int]:
        cell = self.counts.get((owner, day))
        if cell is None:
            cell = self.counts[(owner, day)] = [0] * len(_COUNTS)
        return cell

    def _owners(self, channel_id: int | None) -> list[Owner]:
        mine: Owner = (False, self.account_id)
        return [mine] if channel_id is None else [mine, (True, channel_id)]

    def add(
        self, user: _User, kind: str, create_time: int, event_id: int, channel: int | None
    ) -> None:
        day = self.days.day(create_time)
        owners = self._owners(channel)
        key = (create_time, event_id)
        if kind in _SCAN:
            for owner in owners:
                cell = self._cell(owner, day)
                cell[0] += 1
                cell[5] += kind == "subscribe_scan"
                self.scanners.setdefault((owner, day), []).append(user.uid)
        if kind in _FOLLOW and not user.late:
            user.last_channel, user.touch, user.changed = channel, key, True
        if kind in _FOLLOW:
            if user.first is not None and key > user.first:
                for owner in owners:
                    self._cell(owner, day)[2] += 1
                return
            if user.first is not None and user.first_day is not None:
                for owner in self._owners(user.first_channel):  # the old first follow
                    cell = self._cell(owner, user.first_day)
                    cell[1] -= 1
                    cell[2] += 1
            for owner in owners:
                self._cell(owner, day)[1] += 1
            user.first, user.first_day, user.first_channel = key, day, channel
            user.changed = True
        elif kind == "unsubscribe" and not user.late:
            # every folded follow of the user is before this one: first/last are known
            first = user.first_channel if user.first is not None else None
            last = user.last_channel if user.first is not None else None
            self.unfollow(create_time, first, last, 1)
            user.touch, user.changed = key, True

    def unfollow(self, create_time: int, first: int | None, last: int | None, sign: int) -> None:
        """Credit (``sign`` 1) or withdraw (-1) one unfollow under both models."""
        day = self.days.day(create_time)
        for owner in self._owners(first):
            self._cell(owner, day)[3] += sign
        for owner in self._owners(last):
            self._cell(owner, day)[4] += sign

    def recredit(self, user: _User, before: list[Touch], after: list[Touch]) -> None:
        """A late push: withdraw the user's unfollow credits of ``before`` (its events
        folded so far), credit those of ``after`` (with the batch's)."""
        for create_time, first, last in unfollow_touches(before):
            self.unfollow(create_time, first, last, -1)
        for create_time, first, last in unfollow_touches(after):
            self.unfollow(create_time, first, last, 1)
        follows = [t for t in sorted(after) if t[2] != "unsubscribe"]
        user.last_channel = follows[-1][3] if follows else None
        latest = max(after)
        user.touch, user.changed = (latest[0], latest[1]), True


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _state(conn: Connection, account_id: int) -> tuple[str, int] | None:
    """(zone of the rollups, next uid) of a built account whose zone is still its own;
    a built account whose zone changed is unbuilt here (its rollups dropped)."""
    row = conn.execute(
        select(stats_rollup_state.c.timezone, stats_rollup_state.c.next_uid, accounts.c.timezone)
        .select_from(stats_rollup_state.join(accounts))
        .where(stats_rollup_state.c.account_id == account_id)
    ).first()
    if row is None:
        return None
    if row[0] != (row[2] or DEFAULT_TIMEZONE):
        drop_account(conn, account_id)
        return None
    return str(row[0]), int(row[1])


def drop_account(conn: Connection, account_id: int) -> None:
    """Forget an account's rollups (it is then unbuilt: queries use the log)."""
    mine = select(channels.c.id).where(channels.c.account_id == account_id)
    conn.execute(delete(stats_channel_blocks).where(stats_channel_blocks.c.channel_id.in_(mine)))
    for table in (stats_account_blocks, stats_users, stats_rollup_state):
        conn.execute(delete(table).where(table.c.account_id == account_id))


def _start_if_empty(conn: Connection, account_id: int) -> tuple[str, int] | None:
    """A new account (every counted event of it still queued) starts built, empty."""
    folded = exists().where(
        events.c.account_id == account_id,
        events.c.kind.in_(COUNTED_KINDS),
        ~exists().where(stats_pending.c.event_id == events.c.id),
    )
    if conn.execute(select(folded)).scalar():
        return None
    tz = conn.execute(select(accounts.c.timezone).where(accounts.c.id == account_id)).scalar()
    if (
        tz is None
        and not conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first()
    ):
        return None
    zone_name = str(tz or DEFAULT_TIMEZONE)
    conn.execute(
        insert(stats_rollup_state).values(
            account_id=account_id, timezone=zone_name, next_uid=0, built_at=int(time.time())
        )
    )
    return zone_name, 0


def fold_pending(conn: Connection, limit: int = FOLD_BATCH) -> int:
    """Fold up to ``limit`` queued events (under the rollup lock); how many left the queue.

    Events of an unbuilt account just leave the queue: its rebuild reads them from the log.
    """
    for account_id in _stateless_accounts(conn):
        _start_if_empty(conn, account_id)
    e = events
    rows = conn.execute(
        select(
            stats_pending.c.event_id,
            e.c.account_id,
            e.c.kind,
            e.c.openid,
            e.c.create_time,
            e.c.channel_id,
        )
        .select_from(stats_pending.outerjoin(e, e.c.id == stats_pending.c.event_id))
        .order_by(stats_pending.c.event_id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    by_account: dict[int, list[Any]] = {}
    for row in rows:
        if row[1] is not None:
            by_account.setdefault(int(row[1]), []).append(row)
    for account_id, mine in by_account.items():
        state = _state(conn, account_id) or _start_if_empty(conn, account_id)
        if state is None:
            continue
        zone_name, next_uid = state
        mine.sort(key=lambda r: (r[4], r[0]))
        users = _load_users(conn, account_id, sorted({str(r[3]) for r in mine}))
        acc = _Accumulator(account_id, ZoneInfo(zone_name))
        late = _late_touches(conn, account_id, users, mine)
        for row in mine:
            openid = str(row[3])
            user = users.get(openid)
            if user is None:
                user = users[openid] = _User(next_uid, None, None, None, stored=False)
                next_uid += 1
            acc.add(user, str(row[2]), int(row[4]), int(row[0]), row[5])
        for openid, (before, after) in late.items():
            acc.recredit(users[openid], before, after)
        _write_users(conn, account_id, users)
        _write_blocks(conn, acc)
        conn.execute(
            update(stats_rollup_state)
            .where(stats_rollup_state.c.account_id == account_id)
            .values(next_uid=next_uid)
        )
    ids = [int(row[0]) for row in rows]
    for chunk in _chunks(ids):
        conn.execute(delete(stats_pending).where(stats_pending.c.event_id.in_(chunk)))
    return len(ids)


def _late_touches(
    conn: Connection, account_id: int, users: dict[str, _User], batch: Sequence[Any]
) -> dict[str, tuple[list[Touch], list[Touch]]]:
    """The users with a follow or unfollow in ``batch`` older than their latest folded one
    (marked ``late``): ``{openid: (their folded touches, the same with the batch's)}``."""
    mine: dict[str, list[Touch]] = {}
    for row in batch:
        if row[2] != "scan":
            mine.setdefault(str(row[3]), []).append((int(row[4]), int(row[0]), str(row[2]), row[5]))
    late = [
        openid
        for openid, touches in mine.items()
        if (user := users.get(openid)) is not None
        and user.touch is not None
        and min(t[:2] for t in touches) < user.touch
    ]
    folded: dict[str, list[Touch]] = {openid: [] for openid in late}
    e = events
    for chunk in _chunks(late):
        query = select(e.c.openid, e.c.create_time, e.c.id, e.c.kind, e.c.channel_id).where(
            e.c.account_id == account_id,
            e.c.openid.in_(chunk),
            e.c.kind.in_((*FOLLOW_KINDS, "unsubscribe")),
            ~exists().where(stats_pending.c.event_id == e.c.id),
        )
        for openid, create_time, event_id, kind, channel in conn.execute(query):
            folded[str(openid)].append((int(create_time), int(event_id), str(kind), channel))
    for openid in late:
        users[openid].late = True
    return {openid: (folded[openid], folded[openid] + mine[openid]) for openid in late}


def needs_fold(conn: Connection) -> bool:
    """Whether a fold has anything to do: queued events, or an account without state."""
    state = stats_rollup_state
    queued = select(stats_pending.c.event_id).exists()
    stateless = (
        select(accounts.c.id).where(~exists().where(state.c.account_id == accounts.c.id)).exists()
    )
    return bool(conn.execute(select(queued | stateless)).scalar())


def _stateless_accounts(conn: Connection) -> list[int]:
    state = stats_rollup_state
    query = select(accounts.c.id).where(~exists().where(state.c.account_id == accounts.c.id))
    return [int(i) for i in conn.execute(query).scalars()]


def _load_users(conn: Connection, account_id: int, openids: Sequence[str]) -> dict[str, _User]:
    u = stats_users
    found: dict[str, _User] = {}
    for chunk in _chunks(openids):
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
        ).where(u.c.account_id == account_id, u.c.openid.in_(chunk))
        for row in conn.execute(query):
            first = None if row[2] is None else (int(row[2]), int(row[3]))
            touch = None if row[7] is None else (int(row[7]), int(row[8]))
            found[str(row[0])] = _User(
                int(row[1]), first, row[4], row[5], stored=True, last_channel=row[6], touch=touch
            )
    return found


def _user_values(account_id: int, openid: str, user: _User) -> dict[str, Any]:
    first = user.first or (None, None)
    touch = user.touch or (None, None)
    return {
        "account_id": account_id,
        "openid": openid,
        "uid": user.uid,
        "first_follow_time": first[0],
        "first_follow_id": first[1],
        "first_follow_day": user.first_day,
        "first_follow_channel_id": user.first_channel,
        "last_follow_channel_id": user.last_channel,
        "last_touch_time": touch[0],
        "last_touch_id": touch[1],
    }


def _write_users(conn: Connection, account_id: int, users: dict[str, _User]) -> None:
    new = [_user_values(account_id, o, u) for o, u in users.items() if not u.stored]
    if new:
        conn.execute(insert(stats_users), new)
    u = stats_users
    for openid, user in users.items():
        if user.stored and user.changed:
            values = _user_values(account_id, openid, user)
            del values["account_id"], values["openid"], values["uid"]
            conn.execute(
                update(u).where(u.c.account_id == account_id, u.c.openid == openid).values(values)
            )


def _block_table(is_channel: bool) -> tuple[Any, str]:
    if is_channel:
        return stats_channel_blocks, "channel_id"
    return stats_account_blocks, "account_id"


_EMPTY = BitMap().serialize()


def _write_blocks(conn: Connection, acc: _Accumulator, *, fresh: bool = False) -> None:
    """Add the accumulated day deltas and scanners to the blocks of every level
    (``fresh``: the account's blocks are known to be empty, nothing to read)."""
    counts: dict[tuple[Owner, int, int], list[int]] = {}
    adds: dict[tuple[Owner, int, int], BitMap] = {}
    for (owner, day), cell in acc.counts.items():
        for level in LEVELS:
            key = (owner, level, day // 4**level)
            total = counts.get(key)
            if total is None:
                counts[key] = list(cell)
            else:
                for i in range(len(_COUNTS)):
                    total[i] += cell[i]
    for (owner, day), uids in acc.scanners.items():
        for level in LEVELS:
            key = (owner, level, day // 4**level)
            found = adds.get(key)
            if found is None:
                adds[key] = BitMap(uids)
            else:
                found.update(uids)
    for is_channel in (False, True):
        table, owner_col = _block_table(is_channel)
        keys = [k for k in counts if k[0][0] is is_channel]
        existing: dict[tuple[int, int, int], Any] = {}
        by_level: dict[int, list[tuple[int, int]]] = {}
        for owner, level, block in [] if fresh else keys:
            by_level.setdefault(level, []).append((block, owner[1]))
        for level, pairs in by_level.items():
            for chunk in _chunks(pairs, 300):
                query = select(table).where(
                    table.c.level == level,
                    tuple_(table.c.block, table.c[owner_col]).in_(list(chunk)),
                )
                for row in conn.execute(query).mappings():
                    existing[(int(row[owner_col]), level, int(row["block"]))] = row
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for owner, level, block in keys:
            delta = counts[(owner, level, block)]
            old = existing.get((owner[1], level, block))
            scanners = adds.get((owner, level, block))
            values: dict[str, Any] = {"o": owner[1], "l": level, "b": block}
            for i, name in enumerate(_COUNTS):
                values[name] = delta[i] + (int(old[name]) if old is not None else 0)
            if scanners is not None and old is not None:
                scanners |= BitMap.deserialize(bytes(old["uids"]))
            if scanners is not None:
                values["unique_scanners"] = len(scanners)
                values["uids"] = scanners.serialize()
            elif old is not None:
                values["unique_scanners"] = int(old["unique_scanners"])
                values["uids"] = bytes(old["uids"])
            else:
                values["unique_scanners"] = 0
                values["uids"] = _EMPTY
            (updates if old is not None else inserts).append(values)
        if inserts:
            rows = [
                {owner_col: v["o"], "level": v["l"], "block": v["b"]}
                | {k: v[k] for k in (*_COUNTS, "unique_scanners", "uids")}
                for v in inserts
            ]
            for chunk in _chunks(rows, 5_000):
                conn.execute(insert(table), list(chunk))
        if updates:
            conn.execute(
                update(table)
                .where(
                    table.c.level == bindparam("l"),
                    table.c.block == bindparam("b"),
                    table.c[owner_col] == bindparam("o"),
                )
                .values({k: bindparam(f"v_{k}") for k in (*_COUNTS, "unique_scanners", "uids")}),
                [
                    {"o": v["o"], "l": v["l"], "b": v["b"]}
                    | {f"v_{k}": v[k] for k in (*_COUNTS, "unique_scanners", "uids")}
                    for v in updates
                ],
            )


def rebuild_account(
    conn: Connection,
    account_id: int,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild one account's rollups from its whole log (under the rollup lock, in one
    snapshot); how many events were folded. ``progress(done, total)`` now and then."""
    zone_name = conn.execute(
        select(accounts.c.timezone).where(accounts.c.id == account_id)
    ).scalar()
    zone_name = str(zone_name or DEFAULT_TIMEZONE)
    drop_account(conn, account_id)
    mine = select(events.c.id).where(events.c.account_id == account_id)
    conn.execute(delete(stats_pending).where(stats_pending.c.event_id.in_(mine)))
    where = and_(events.c.account_id == account_id, events.c.kind.in_(COUNTED_KINDS))
    total = int(conn.execute(select(func.count()).where(where)).scalar() or 0)
    acc = _Accumulator(account_id, ZoneInfo(zone_name))
    users: dict[str, _User] = {}
    query = (
        select(
            events.c.id, events.c.kind, events.c.openid, events.c.create_time, events.c.channel_id
        )
        .where(where)
        .order_by(events.c.create_time, events.c.id)
    )
    done = 0
    result = conn.execute(query, execution_options={"stream_results": True, "yield_per": 20_000})
    for event_id, kind, openid, create_time, channel_id in result:
        user = users.get(openid)
        if user is None:
            user = users[openid] = _User(len(users), None, None, None, stored=False)
        acc.add(user, kind, create_time, event_id, channel_id)
        done += 1
        if progress is not None and done % 100_000 == 0:
            progress(done, total)
    rows = [_user_values(account_id, o, u) for o, u in users.items()]
    for chunk in _chunks(rows, 20_000):
        conn.execute(insert(stats_users), list(chunk))
    _write_blocks(conn, acc, fresh=True)
    conn.execute(
        insert(stats_rollup_state).values(
            account_id=account_id,
            timezone=zone_name,
            next_uid=len(users),
            built_at=int(time.time()),
        )
    )
    if progress is not None:
        progress(done, total)
    return done


def unbuilt_accounts(conn: Connection) -> list[int]:
    """Accounts with events but no usable rollups (new install, zone changed)."""
    state = stats_rollup_state
    query = select(accounts.c.id).where(
        ~exists().where(
            state.c.account_id == accounts.c.id,
            state.c.timezone == func.coalesce(accounts.c.timezone, DEFAULT_TIMEZONE),
        )
    )
    return [int(i) for i in conn.execute(query.order_by(accounts.c.id)).scalars()]
