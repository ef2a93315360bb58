"""Shared pieces of the client tests: the test account and client settings."""

from __future__ import annotations

from typing import Any

from wxqr.emulator.testing import EmulatorAccount, RunningEmulator
from wxqr.wechat import ClientConfig

APPID = "wx0123456789abcdef"
SECRET = "s3cret-app-secret-4f9a"
ACCOUNT = EmulatorAccount(appid=APPID, secret=SECRET, token="tok", original_id="gh_0123456789ab")


def config_for(emu: RunningEmulator, **overrides: Any) -> ClientConfig:
    """Client settings pointing both bases at the emulator, with fast retries and waits."""
    settings: dict[str, Any] = {
        "appid": APPID,
        "secret": SECRET,
        "api_base": emu.base_url,
        "mp_base": emu.base_url,
        "timeout": 10.0,
        "backoff_base": 0.001,
        "backoff_max": 0.01,
        "lock_poll": 0.01,
        "lock_wait": 10.0,
    }
    settings.update(overrides)
    return ClientConfig(**settings)


async def purge_redis(url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (test clean-up)."""
    from redis.asyncio import Redis

    client: Any = Redis.from_url(url)  # redis-py and types-redis disagree on aclose
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
