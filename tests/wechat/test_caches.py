"""The TokenCache contract, on every implementation and its real backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from wxqr.service.token_cache import DatabaseTokenCache
from wxqr.wechat import (
    CachedToken,
    MemoryTokenCache,
    RedisTokenCache,
    TokenCache,
)

from .support import purge_redis

pytestmark = pytest.mark.anyio

APPID = "wx0123456789abcdef"
SECRET_TOKEN = "12_" + "T" * 120


def _token(value: str = SECRET_TOKEN, ttl: float = 7200) -> CachedToken:
    return CachedToken(value, int((time.time() + ttl) * 1000))


@pytest.fixture(params=["memory", "redis", "sqlite", "postgres"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[TokenCache]:
    kind = request.param
    made: TokenCache
    if kind == "memory":
        made = MemoryTokenCache()
    elif kind == "redis":
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        made = RedisTokenCache.from_url(url, prefix=prefix)
    elif kind == "sqlite":
        made = DatabaseTokenCache(request.getfixturevalue("sqlite_engine"))
    else:
        engine: Engine = request.getfixturevalue("postgres_engine")
        made = DatabaseTokenCache(engine)
    assert isinstance(made, TokenCache)
    yield made
    await made.aclose()
    if kind == "redis":
        await purge_redis(url, prefix)


async def test_empty_cache_has_no_token(cache: TokenCache) -> None:
    assert await cache.get(APPID + "-none") is None


async def test_lock_is_exclusive_and_fences_grow(cache: TokenCache) -> None:
    appid = APPID + "-lock"
    first = await cache.try_lock(appid, ttl=30)
    assert first is not None
    assert await cache.try_lock(appid, ttl=30) is None
    await cache.unlock(appid, first)
    second = await cache.try_lock(appid, ttl=30)
    assert second is not None
    assert second.fence > first.fence
    assert second.owner != first.owner
    await cache.unlock(appid, second)


async def test_put_and_get_round_trip_under_the_lease(cache: TokenCache) -> None:
    appid = APPID + "-put"
    lease = await cache.try_lock(appid, ttl=30)
    assert lease is not None
    token = _token()
    assert await cache.put(appid, token, lease)
    await cache.unlock(appid, lease)
    assert await cache.get(appid) == token


async def test_a_lease_taken_over_after_its_ttl_is_fenced_out(cache: TokenCache) -> None:
    appid = APPID + "-fence"
    old = await cache.try_lock(appid, ttl=0.05)
    assert old is not None
    await asyncio.sleep(0.15)  # the holder "died": its lock lapses
    new = await cache.try_lock(appid, ttl=30)
    assert new is not None
    assert new.fence > old.fence
    assert await cache.put(appid, _token("new-token"), new)
    assert not await cache.put(appid, _token("stale-token"), old)
    await cache.unlock(appid, old)  # must not release the new holder's lock
    assert await cache.try_lock(appid, ttl=30) is None
    await cache.unlock(appid, new)
    cached = await cache.get(appid)
    assert cached is not None
    assert cached.value == "new-token"


async def test_expire_if_drops_only_the_failing_token(cache: TokenCache) -> None:
    appid = APPID + "-cae"
    lease = await cache.try_lock(appid, ttl=30)
    assert lease is not None
    await cache.put(appid, _token("refreshed-by-another-worker"), lease)
    await cache.unlock(appid, lease)
    assert not await cache.expire_if(appid, "the-token-that-failed")
    cached = await cache.get(appid)
    assert cached is not None
    assert cached.value == "refreshed-by-another-worker"
    assert await cache.expire_if(appid, "refreshed-by-another-worker")
    assert await cache.get(appid) is None
    assert not await cache.expire_if(appid, "refreshed-by-another-worker")


async def test_appids_are_independent(cache: TokenCache) -> None:
    a, b = APPID + "-a", APPID + "-b"
    lease = await cache.try_lock(a, ttl=30)
    assert lease is not None
    assert await cache.try_lock(b, ttl=30) is not None
    assert await cache.put(a, _token("token-a"), lease)
    assert await cache.get(b) is None


async def test_token_value_is_hidden_in_reprs(cache: TokenCache) -> None:
    appid = APPID + "-repr"
    lease = await cache.try_lock(appid, ttl=30)
    assert lease is not None
    await cache.put(appid, _token(), lease)
    cached = await cache.get(appid)
    assert SECRET_TOKEN not in repr(cached)
    assert SECRET_TOKEN not in repr(cache)


async def test_concurrent_lockers_get_exactly_one_lease(cache: TokenCache) -> None:
    appid = APPID + "-race"
    leases = await asyncio.gather(*(cache.try_lock(appid, ttl=30) for _ in range(20)))
    assert sum(lease is not None for lease in leases) == 1
