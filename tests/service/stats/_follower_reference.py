"""Audience, follow sources, retention and unfollow rate computed the obvious way, in
Python, from the event list and docs/metrics.md (no SQL, no code shared with the service).

Also: the ``followers`` rows the ingest would keep for a world (its own pure transitions,
applied in arrival order), which the service reads.
"""

from __future__ import annotations

import itertools
from collections import Counter
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, insert, select

from wxqr.service.ingest._followers import FollowerState, apply_event
from wxqr.store.tables import (
    datacube_cache,
    follower_spans,
    follower_spans_progress,
    followers,
)
from wxqr.store.tables import events as events_table

from ._reference import bucket_starts
from ._world import Event, World, load

FOLLOWS = ("subscribe_scan", "subscribe")
DAY = 86_400
SOURCES = (None, "ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH", "ADD_SCENE_PROFILE_CARD")


def source_of(openid: str) -> str | None:
    """The ``subscribe_scene`` the world's worker fetched for ``openid`` (None: not yet)."""
    return SOURCES[int(openid[1:]) % len(SOURCES)]


def load_with_followers(engine: Engine, world: World, upto: int | None = None) -> None:
    """The world's log (its first ``upto`` arrivals; :func:`add_arrivals` stores the rest),
    and the followers rows all its arrivals make through the ingest's rules."""
    with engine.begin() as conn:
        for table in (followers, datacube_cache, follower_spans, follower_spans_progress):
            conn.execute(delete(table))
    later = world.arrivals[upto:] if upto is not None else []
    world.arrivals[len(world.arrivals) - len(later) :] = []
    try:
        load(engine, world)
    finally:
        world.arrivals.extend(later)
    states: dict[tuple[int, str], FollowerState] = {}
    for e in world.events:  # deduplicated, in arrival order
        key = (e.account_id, e.openid)
        after = apply_event(
            states.get(key), e.kind, at=e.create_time, scene=e.scene, channel_id=e.channel_id
        )
        if after is not None:
            states[key] = after
    rows = [
        {
            "account_id": account_id,
            "openid": openid,
            "following": s.following,
            "first_follow_at": s.first_follow_at,
            "first_scene": s.first_scene,
            "first_channel_id": s.first_channel_id,
            "last_follow_at": s.last_follow_at,
            "last_scene": s.last_scene,
            "last_channel_id": s.last_channel_id,
            "unfollowed_at": s.unfollowed_at,
            "refollow_count": s.refollow_count,
            "updated_at": 0,
            "wechat_subscribe_scene": source_of(openid),
        }
        for (account_id, openid), s in states.items()
    ]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(followers), rows)


def _history(log: list[Event], account_id: int) -> dict[str, list[Event]]:
    mine = sorted(
        (e for e in log if e.account_id == account_id and e.kind in (*FOLLOWS, "unsubscribe")),
        key=lambda e: (e.create_time, e.id),
    )
    found: dict[str, list[Event]] = {}
    for e in mine:
        found.setdefault(e.openid, []).append(e)
    return found


def _first_follow(events: list[Event]) -> Event | None:
    return next((e for e in events if e.kind in FOLLOWS), None)


def _channel(first: Event) -> int | None:
    return first.channel_id if first.kind == "subscribe_scan" else None


def following_at(events: list[Event], t: int) -> bool:
    """The last follow/unfollow with create_time <= t is a follow."""
    before = [e for e in events if e.create_time <= t]
    return bool(before) and before[-1].kind in FOLLOWS


def audience(
    log: list[Event],
    account_id: int,
    start_s: int,
    end_s: int,
    scope: set[int] | None,
    tz: ZoneInfo,
    granularity: str,
) -> tuple[list[int], Counter[int | None], Counter[str]]:
    """Points (followers at each bucket's last second in the window), and at the end of
    the window the followers per first-touch channel and per source."""
    histories = _history(log, account_id)

    def in_scope(events: list[Event]) -> bool:
        first = _first_follow(events)
        return first is not None and (scope is None or _channel(first) in scope)

    members = {o: h for o, h in histories.items() if in_scope(h)}
    points = []
    for _lo, hi in itertools.pairwise(bucket_starts(start_s, end_s, tz, granularity)):
        t = min(hi, end_s) - 1
        points.append(sum(1 for h in members.values() if following_at(h, t)))
    channels: Counter[int | None] = Counter()
    sources: Counter[str] = Counter()
    for openid, h in members.items():
        if following_at(h, end_s - 1):
            first = _first_follow(h)
            assert first is not None
            channels[_channel(first)] += 1
            sources[source_of(openid) or "unknown"] += 1
    return points, channels, sources


def retention(
    log: list[Event],
    account_id: int,
    start_s: int,
    end_s: int,
    scope: set[int] | None,
    tz: ZoneInfo,
    cohort: str,
    now: int,
    unfollow_days: int,
) -> tuple[list[tuple[int, dict[int, int | None]]], dict[int | None, tuple[int, int]]]:
    """Per cohort bucket: (size, {day: retained or None}); per first-touch channel:
    (new followers, unfollowed within ``unfollow_days``)."""
    histories = _history(log, account_id)
    starts = bucket_starts(start_s, end_s, tz, cohort)
    oldest = (now - min(starts[1], end_s)) // DAY
    days = [1, 7, 30, *range(35, min(oldest, 364) + 1, 7)]
    cohorts = []
    for lo, hi in itertools.pairwise(starts):
        members = []
        for events in histories.values():
            first = _first_follow(events)
            if first is None or not (max(lo, start_s) <= first.create_time < min(hi, end_s)):
                continue
            if scope is not None and _channel(first) not in scope:
                continue
            members.append((first.create_time, events))
        cells: dict[int, int | None] = {}
        for n in days:
            if min(hi, end_s) + n * DAY > now:
                cells[n] = None
            else:
                cells[n] = sum(1 for t, ev in members if following_at(ev, t + n * DAY))
        cohorts.append((len(members), cells))
    channels: dict[int | None, tuple[int, int]] = {}
    for events in histories.values():
        first = _first_follow(events)
        if first is None or not start_s <= first.create_time < end_s:
            continue
        channel = _channel(first)
        if scope is not None and channel not in scope:
            continue
        after = events[events.index(first) + 1 :]
        left = any(
            e.kind == "unsubscribe" and e.create_time <= first.create_time + unfollow_days * DAY
            for e in after
        )
        new, gone = channels.get(channel, (0, 0))
        channels[channel] = (new + 1, gone + int(left))
    return cohorts, channels


def add_arrivals(engine: Engine, world: World, start: int) -> None:
    """Store the arrivals from index ``start`` on, as the ingest would (retries dropped)."""
    with engine.begin() as conn:
        stored = set(
            conn.execute(select(events_table.c.account_id, events_table.c.dedup_key)).all()
        )
        for event in world.arrivals[start:]:
            if (event.account_id, event.dedup_key) in stored:
                continue
            stored.add((event.account_id, event.dedup_key))
            conn.execute(
                insert(events_table).values(
                    id=event.id,
                    account_id=event.account_id,
                    dedup_key=event.dedup_key,
                    kind=event.kind,
                    openid=event.openid,
                    msg_type="text" if event.kind == "message" else "event",
                    event=event.kind,
                    scene=event.scene,
                    scene_ref=event.scene_ref,
                    channel_id=event.channel_id,
                    orphan=event.orphan,
                    create_time=event.create_time,
                    received_at=event.create_time * 1000,
                )
            )
