"""A wxqr stack whose clock moves with its own emulator's (issue 19: code lifecycle).

Temporary codes live days; the tests move time forward instead of waiting. The stack has
a private emulator (moving the session's shared one would age every other test's codes)
and a wxqr runtime whose clock is wall time plus the same offset, so both sides agree on
when a code expires. Both start ``START_BEHIND`` seconds in the past: the webhook refuses
pushes whose CreateTime is more than a day ahead of the wall clock, so time is moved
forward towards now, never past it. The served app takes the emulator's pushes over real
HTTP.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import httpx
from sqlalchemy import Engine, func, select, update

from tests.support.stack import APPID, SECRET, TOKEN, make_settings
from wxqr.emulator.testing import RunningEmulator, running_emulator, serve_app
from wxqr.runtime import Runtime
from wxqr.service.accounts import Account, add_account, get_account
from wxqr.service.workspace import Workspace
from wxqr.store import tables as t
from wxqr.web.app import create_app

__all__ = [
    "START_BEHIND",
    "LifecycleStack",
    "ShiftedClock",
    "expire_code",
    "lifecycle_stack",
    "scans_of_channel",
]

START_BEHIND = 12 * 86400.0


@dataclass
class ShiftedClock:
    """Wall time plus ``offset`` seconds (moved by :meth:`LifecycleStack.advance`)."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class LifecycleStack:
    ws: Workspace
    account: Account
    emulator: RunningEmulator
    base_url: str
    api_key: str
    clock: ShiftedClock = field(default_factory=ShiftedClock)

    def advance(self, seconds: float) -> None:
        """Move both clocks (the emulator's and wxqr's) ``seconds`` forward."""
        self.emulator.advance(seconds)
        self.clock.offset += seconds

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"X-API-Key": self.api_key}, timeout=30)


def scans_of_channel(engine: Engine, channel_id: int) -> int:
    """Scans (with or without a follow) recorded for the channel."""
    e = t.events
    query = select(func.count()).where(
        e.c.channel_id == channel_id, e.c.kind.in_(["scan", "subscribe_scan"])
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def expire_code(engine: Engine, code_id: int, seconds_ago: int = 60) -> None:
    """Make a temporary code's expiry lie in the past (as if its days had gone by)."""
    s = t.scenes
    with engine.begin() as conn:
        conn.execute(
            update(s).where(s.c.id == code_id).values(expires_at=int(time.time()) - seconds_ago)
        )


@contextmanager
def lifecycle_stack(
    engine: Engine,
    database_url: str,
    *,
    daily_quota: int | None = None,
    permanent_limit: int = 100_000,
    worker: bool = False,
) -> Iterator[LifecycleStack]:
    """The stack; ``worker``: run ``wxqr serve``'s background worker (its chores follow the
    shifted clock), else tests call the services' chores themselves."""
    clock = ShiftedClock(-START_BEHIND)
    start = time.time() - START_BEHIND
    with running_emulator(
        daily_quota=daily_quota, permanent_limit=permanent_limit, start_time=start
    ) as emulator:
        account = get_account(engine, APPID) or add_account(
            engine, appid=APPID, token=TOKEN, app_secret=SECRET
        )
        settings = replace(
            make_settings(database_url, emulator), worker_enabled=worker, worker_poll_seconds=0.1
        )
        with Runtime.open(settings, engine=engine, serve=True, clock=clock) as runtime:
            ws = runtime.workspace
            key = ws.api_keys.create(f"test-{uuid.uuid4().hex[:6]}").secret
            with serve_app(create_app(runtime)) as base_url:
                emulator.set_push_url(APPID, f"{base_url}/wechat/{APPID}")
                yield LifecycleStack(ws, account, emulator, base_url, key, clock)
