"""Direct reads and writes of the store for assertions and setup in the webhook tests."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, RowMapping, func, select

from wxqr.store import tables as t


def account_id(engine: Engine, appid: str) -> int:
    with engine.connect() as conn:
        value = conn.execute(select(t.accounts.c.id).where(t.accounts.c.appid == appid)).scalar()
    assert isinstance(value, int)
    return value


def add_channel(
    engine: Engine,
    appid: str,
    name: str,
    *,
    reply: dict[str, Any] | None = None,
    follower_tags: list[str] | None = None,
) -> int:
    now = int(time.time())
    with engine.begin() as conn:
        result = conn.execute(
            t.channels.insert().values(
                account_id=account_id(engine, appid),
                name=name,
                tags=[],
                reply=reply,
                follower_tags=follower_tags or [],
                created_at=now,
                updated_at=now,
            )
        )
        key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_scene(
    engine: Engine,
    appid: str,
    scene: str,
    *,
    channel_id: int | None = None,
    reply: dict[str, Any] | None = None,
) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            t.scenes.insert().values(
                account_id=account_id(engine, appid),
                channel_id=channel_id,
                scene=scene,
                scene_type="id" if scene.isdigit() else "str",
                qr_kind="permanent",
                reply=reply,
                created_at=int(time.time()),
            )
        )
        key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def events(engine: Engine) -> list[RowMapping]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.events).order_by(t.events.c.id)).mappings())


def follower(engine: Engine, openid: str) -> RowMapping | None:
    with engine.connect() as conn:
        query = select(t.followers).where(t.followers.c.openid == openid)
        return conn.execute(query).mappings().first()


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        value = conn.execute(select(func.count()).select_from(table)).scalar()
    return int(value or 0)


def jobs(engine: Engine) -> list[RowMapping]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.jobs).order_by(t.jobs.c.id)).mappings())


def add_binding(engine: Engine, account: int, ref: str, openid: str) -> int:
    """A (ref ↔ openid) binding as a completed bind session leaves it."""
    with engine.begin() as conn:
        key = conn.execute(
            t.bindings.insert().values(
                account_id=account, ref=ref, openid=openid, created_at=int(time.time())
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def age_session(engine: Engine, session_id: int, seconds: int) -> None:
    """Move a scan session's creation (and expiry) ``seconds`` into the past."""
    s = t.scan_sessions
    with engine.begin() as conn:
        conn.execute(
            s.update()
            .where(s.c.id == session_id)
            .values(created_at=s.c.created_at - seconds, expires_at=s.c.expires_at - seconds)
        )


def use_up_session_quota(engine: Engine, account: int, count: int, *, for_seconds: int) -> None:
    """``count`` cancelled scan sessions created ``for_seconds`` from now: the account's
    sessions-per-minute quota stays used up that long (more sessions are a 429)."""
    at = int(time.time()) + for_seconds
    with engine.begin() as conn:
        conn.execute(
            t.scan_sessions.insert(),
            [
                {
                    "account_id": account,
                    "purpose": "quota",
                    "scene": f"wxqs_quota-{account}-{at}-{n}",
                    "poll_token_hash": "0" * 64,
                    "status": "cancelled",
                    "expires_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
                for n in range(count)
            ],
        )
