"""Random event logs for the stats tests: accounts, channels, scenes and the events an
ingest following contract 3 of the brief would store for a stream of user actions.

The simulation is the ingest's, in arrival order: scene → channel resolution, ``orphan``
for unknown scenes, WeChat's retries deduplicated on the dedup key, and ``channel_id`` on
an ``unsubscribe`` = the follower's first-touch channel known at that moment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wxqr.service.session_scenes import SESSION_SCENE_PREFIX, is_session_scene
from wxqr.store.tables import accounts, channels, events, scenes, stats_pending

# Scenes of scan sessions (the pseudo-scope ``sessions``), two purposes: not in ``scenes``.
SESSION_SCENES = (
    SESSION_SCENE_PREFIX + "A" * 22 + "login",
    SESSION_SCENE_PREFIX + "B" * 22 + "bind",
    SESSION_SCENE_PREFIX + "C" * 22 + "login",
)

ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata")
GROUPS = (None, "g1", "g2")
# 2024-03-08 00:00 UTC: two days before New York's spring-forward, 3 weeks before London's.
BASE_TIME = 1_709_856_000


@dataclass(frozen=True)
class Account:
    id: int
    appid: str
    timezone: str


@dataclass(frozen=True)
class Channel:
    id: int
    account_id: int
    name: str
    group: str | None


@dataclass(frozen=True)
class Scene:
    id: int
    account_id: int
    channel_id: int | None
    scene: str


@dataclass(frozen=True)
class Event:
    id: int
    account_id: int
    dedup_key: str
    kind: str
    openid: str
    scene: str | None
    scene_ref: int | None
    channel_id: int | None
    orphan: bool
    create_time: int


@dataclass(frozen=True)
class Action:
    """One thing a user does (or WeChat re-sends)."""

    account: int  # index
    user: int
    what: str  # scan | follow | unfollow | message | retry
    scene: int  # index into the account's scene values (incl. unknown ones)
    gap: int  # seconds since the previous action (may be negative: out-of-order arrival)
    flip: bool  # a scan whose kind contradicts what wxqr believes (missed events)


@dataclass
class World:
    accounts: list[Account] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    arrivals: list[Event] = field(default_factory=list)  # what WeChat pushed, retries included
    events: list[Event] = field(default_factory=list)  # what the log holds (deduplicated)

    def scene_values(self, account_id: int) -> list[str]:
        known = [s.scene for s in self.scenes if s.account_id == account_id]
        return [*known, "unknown-1", "unknown-2", *SESSION_SCENES]


def _dedup(account_id: int, openid: str, create_time: int, kind: str, scene: str | None) -> str:
    material = f"{account_id}|{openid}|{create_time}|{kind}|{scene}"
    return hashlib.sha1(material.encode()).hexdigest()  # noqa: S324


def build_world(
    zones: list[str], channel_groups: list[list[str | None]], actions: list[Action]
) -> World:
    world = World()
    for a, tz in enumerate(zones):
        world.accounts.append(Account(a + 1, f"wx{a + 1:016d}", tz))
    channel_id = scene_id = 0
    for a, groups in enumerate(channel_groups):
        account_id = a + 1
        for c, group in enumerate(groups):
            channel_id += 1
            world.channels.append(Channel(channel_id, account_id, f"=ch{c}", group))
            for k in range(1 + c % 2):  # one or two scenes per channel
                scene_id += 1
                world.scenes.append(Scene(scene_id, account_id, channel_id, f"{c}-{k}"))
        scene_id += 1  # a registered scene with no channel
        world.scenes.append(Scene(scene_id, account_id, None, "nochannel"))

    following: dict[tuple[int, str], bool] = {}
    first_channel: dict[tuple[int, str], int | None] = {}
    seen: set[str] = set()
    clock = BASE_TIME
    for action in actions:
        clock = max(BASE_TIME, clock + action.gap)
        if action.what == "retry":
            if world.arrivals:  # WeChat re-sends an earlier push: same content, new arrival
                original = world.arrivals[action.user % len(world.arrivals)]
                world.arrivals.append(replace(original, id=len(world.arrivals) + 1))
            continue
        account = world.accounts[action.account % len(world.accounts)]
        openid = f"o{action.user}"
        key = (account.id, openid)
        scene: str | None = None
        ref: Scene | None = None
        if action.what == "scan":
            values = world.scene_values(account.id)
            scene = values[action.scene % len(values)]
            ref = next(
                (s for s in world.scenes if (s.account_id, s.scene) == (account.id, scene)), None
            )
            kind = "scan" if following.get(key, False) != action.flip else "subscribe_scan"
        else:
            kind = {"follow": "subscribe", "unfollow": "unsubscribe", "message": "message"}[
                action.what
            ]
        channel = ref.channel_id if ref is not None else None
        if kind == "unsubscribe":
            channel = first_channel.get(key)
        elif kind == "message":
            channel = None
        event = Event(
            id=len(world.arrivals) + 1,
            account_id=account.id,
            dedup_key=_dedup(account.id, openid, clock, kind, scene),
            kind=kind,
            openid=openid,
            scene=scene,
            scene_ref=ref.id if ref is not None else None,
            channel_id=channel,
            # A scan session's scene is no orphan and in no channel (docs/metrics.md).
            orphan=scene is not None and ref is None and not is_session_scene(scene),
            create_time=clock,
        )
        world.arrivals.append(event)
        if event.dedup_key in seen:
            continue  # the ingest would drop it: same push as one already stored
        seen.add(event.dedup_key)
        world.events.append(event)
        if kind in ("subscribe", "subscribe_scan"):
            following[key] = True
            first_channel.setdefault(key, channel if kind == "subscribe_scan" else None)
        elif kind == "unsubscribe":
            following[key] = False
    return world


gaps = st.one_of(
    # Ties: several pushes of one second (a user scanning two codes, follow + scan, …).
    st.sampled_from([0, 0, 0, 0, 0, 1, 30, 600, 3_600, 7_200, 20_000, 50_000, 86_400, 200_000]),
    st.integers(min_value=-300, max_value=-1),  # arrives late: earlier CreateTime
    st.integers(min_value=0, max_value=100_000),
)

actions = st.builds(
    Action,
    account=st.integers(min_value=0, max_value=1),
    user=st.integers(min_value=0, max_value=5),
    what=st.sampled_from(["scan"] * 5 + ["follow", "unfollow", "unfollow", "message", "retry"]),
    scene=st.integers(min_value=0, max_value=9),
    gap=gaps,
    flip=st.sampled_from([False] * 9 + [True]),
)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_accounts = draw(st.integers(min_value=1, max_value=2))
    zones = [draw(st.sampled_from(ZONES)) for _ in range(n_accounts)]
    channel_groups = [
        draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=4)) for _ in range(n_accounts)
    ]
    stream = draw(st.lists(actions, min_size=10, max_size=60))
    return build_world(zones, channel_groups, stream)


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (events, scenes, channels, accounts, stats_pending):
            conn.execute(delete(table))


def load(engine: Engine, world: World, after_arrival: Callable[[int], None] | None = None) -> None:
    """Store the world; arrivals go through the unique dedup key (retries are dropped).

    ``after_arrival(i)``: each arrival is then committed on its own, and this is called
    after the i-th (the rollup tests fold or rebuild there)."""
    reset(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(accounts),
            [
                {
                    "id": a.id,
                    "appid": a.appid,
                    "token": "t",
                    "timezone": a.timezone,
                    "created_at": 0,
                }
                for a in world.accounts
            ],
        )
        if world.channels:
            conn.execute(
                insert(channels),
                [
                    {
                        "id": c.id,
                        "account_id": c.account_id,
                        "name": c.name,
                        "group_name": c.group,
                        "tags": [],
                        "follower_tags": [],
                        "created_at": 0,
                        "updated_at": 0,
                    }
                    for c in world.channels
                ],
            )
        conn.execute(
            insert(scenes),
            [
                {
                    "id": s.id,
                    "account_id": s.account_id,
                    "channel_id": s.channel_id,
                    "scene": s.scene,
                    "scene_type": "str",
                    "qr_kind": "permanent",
                    "created_at": 0,
                }
                for s in world.scenes
            ],
        )
        if after_arrival is None:
            _arrive(conn, world.arrivals)
    if after_arrival is not None:
        for index, event in enumerate(world.arrivals):
            with engine.begin() as conn:
                _arrive(conn, [event])
            after_arrival(index)


def _arrive(conn: Connection, arrivals: list[Event]) -> None:
    if arrivals:
        dialect = conn.dialect.name
        statement = pg_insert(events) if dialect == "postgresql" else sqlite_insert(events)
        statement = statement.on_conflict_do_nothing(index_elements=["account_id", "dedup_key"])
        for event in arrivals:  # one by one, in arrival order, like the ingest
            conn.execute(
                statement,
                {
                    "id": event.id,
                    "account_id": event.account_id,
                    "dedup_key": event.dedup_key,
                    "kind": event.kind,
                    "openid": event.openid,
                    "msg_type": "text" if event.kind == "message" else "event",
                    "event": event.kind,
                    "scene": event.scene,
                    "scene_ref": event.scene_ref,
                    "channel_id": event.channel_id,
                    "orphan": event.orphan,
                    "create_time": event.create_time,
                    "received_at": event.create_time * 1000,
                },
            )
