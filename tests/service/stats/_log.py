"""A small, explicit event-log writer for hand-written stats tests.

It stores rows the way the ingest does (contract 3): scene → channel, ``orphan`` for an
unknown scene, and on ``unsubscribe`` the follower's first-touch channel.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Engine, insert, select

from wxqr.store.tables import accounts, channels, events, scenes


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class LogWriter:
    def __init__(self, engine: Engine, appid: str = "wx1234567890abcdef", tz: str | None = None):
        self.engine = engine
        self.tz = ZoneInfo(tz or "Asia/Shanghai")
        row = {"appid": appid, "token": "t", "created_at": 0, "name": "demo"}
        if tz is not None:
            row["timezone"] = tz
        with engine.begin() as conn:
            self.account_id = _new_id(conn.execute(insert(accounts).values(**row)))
        self.first_channel: dict[str, int | None] = {}
        self._seq = 0

    def channel(self, name: str, group: str | None = None, scenes_: tuple[str, ...] = ()) -> int:
        with self.engine.begin() as conn:
            channel_id = _new_id(
                conn.execute(
                    insert(channels).values(
                        account_id=self.account_id,
                        name=name,
                        group_name=group,
                        tags=[],
                        follower_tags=[],
                        created_at=0,
                        updated_at=0,
                    )
                )
            )
            for value in scenes_ or (name,):
                conn.execute(
                    insert(scenes).values(
                        account_id=self.account_id,
                        channel_id=channel_id,
                        scene=value,
                        scene_type="str",
                        qr_kind="permanent",
                        created_at=0,
                    )
                )
        return channel_id

    def at(self, local: str) -> int:
        """Unix seconds of a local time ``YYYY-MM-DD HH:MM[:SS]`` in the account's zone."""
        return int(datetime.fromisoformat(local).replace(tzinfo=self.tz).timestamp())

    def event(self, kind: str, openid: str, when: str | int, scene: str | None = None) -> None:
        create_time = when if isinstance(when, int) else self.at(when)
        with self.engine.begin() as conn:
            scene_row = None
            if scene is not None:
                scene_row = conn.execute(
                    select(scenes.c.id, scenes.c.channel_id).where(
                        scenes.c.account_id == self.account_id, scenes.c.scene == scene
                    )
                ).first()
            channel_id = scene_row.channel_id if scene_row is not None else None
            if kind == "unsubscribe":
                channel_id = self.first_channel.get(openid)
            if kind in ("subscribe", "subscribe_scan") and openid not in self.first_channel:
                self.first_channel[openid] = channel_id if kind == "subscribe_scan" else None
            self._seq += 1
            key = hashlib.sha1(f"{openid}{create_time}{kind}{scene}{self._seq}".encode())  # noqa: S324
            conn.execute(
                insert(events).values(
                    account_id=self.account_id,
                    dedup_key=key.hexdigest(),
                    kind=kind,
                    openid=openid,
                    msg_type="event",
                    event=kind,
                    scene=scene,
                    scene_ref=scene_row.id if scene_row is not None else None,
                    channel_id=channel_id,
                    orphan=scene is not None and scene_row is None,
                    create_time=create_time,
                    received_at=create_time * 1000,
                )
            )
