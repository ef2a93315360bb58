"""The Redis token cache: one token per appid shared by every worker on every host.

Keys (under ``prefix``, default ``wxqr:token:``), per appid:

* ``{prefix}{appid}`` — hash ``value``/``expires_at`` (Unix ms) of the current token;
* ``{prefix}{appid}:lock`` — the refresh lock, ``SET NX PX`` with a random owner id;
* ``{prefix}{appid}:fence`` — a counter bumped by every lock taken (never expires).

A token is written by a Lua script only while the writer's fence is still the newest, so a
worker whose lock expired mid-refresh cannot overwrite its successor's token. Unlock and
compare-and-expire are Lua scripts too (atomic check-then-act). Needs ``wxqr[redis]``.
"""

from __future__ import annotations

from typing import Any

from ._cache import CachedToken, Lease, new_owner

__all__ = ["RedisTokenCache"]

_PUT = """
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'expires_at', ARGV[2])
return 1
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXPIRE_IF = """
if redis.call('HGET', KEYS[1], 'value') == ARGV[1] then
  return redis.call('HDEL', KEYS[1], 'value', 'expires_at')
end
return 0
"""
_LOCK = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisTokenCache:
    """Tokens in Redis. Pass a ``redis.asyncio.Redis`` client, or use :meth:`from_url`
    (the cache then owns and closes the connection pool)."""

    def __init__(self, redis: Any, *, prefix: str = "wxqr:token:", owns: bool = False) -> None:
        # Typed loosely on purpose: redis-py's inline types and the older types-redis stubs
        # disagree (e.g. about ``aclose``); this module uses only eval, hmget and aclose.
        self._redis: Any = redis
        self._prefix = prefix
        self._owns = owns

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "wxqr:token:") -> RedisTokenCache:
        from redis.asyncio import Redis  # optional dependency: wxqr[redis]

        return cls(Redis.from_url(url), prefix=prefix, owns=True)

    def __repr__(self) -> str:
        return f"RedisTokenCache(prefix={self._prefix!r})"

    def _key(self, appid: str, suffix: str = "") -> str:
        return f"{self._prefix}{appid}{suffix}"

    async def get(self, appid: str) -> CachedToken | None:
        raw = await self._redis.hmget(self._key(appid), ["value", "expires_at"])
        value, expires_at = raw
        if value is None or expires_at is None:
            return None
        return CachedToken(_text(value), int(_text(expires_at)))

    async def put(self, appid: str, token: CachedToken, lease: Lease) -> bool:
        keys = [self._key(appid), self._key(appid, ":fence")]
        args = [token.value, str(token.expires_at_ms), str(lease.fence)]
        return bool(await self._redis.eval(_PUT, 2, *keys, *args))

    async def expire_if(self, appid: str, value: str) -> bool:
        return bool(await self._redis.eval(_EXPIRE_IF, 1, self._key(appid), value))

    async def try_lock(self, appid: str, ttl: float) -> Lease | None:
        owner = new_owner()
        keys = [self._key(appid, ":lock"), self._key(appid, ":fence")]
        ttl_ms = str(max(1, int(ttl * 1000)))
        fence = int(await self._redis.eval(_LOCK, 2, *keys, owner, ttl_ms))
        return Lease(owner, fence) if fence else None

    async def unlock(self, appid: str, lease: Lease) -> None:
        await self._redis.eval(_UNLOCK, 1, self._key(appid, ":lock"), lease.owner)

    async def aclose(self) -> None:
        if self._owns:
            await self._redis.aclose()
