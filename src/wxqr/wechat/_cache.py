"""The token cache interface and the in-process implementation.

A :class:`TokenCache` stores one access token per appid and a refresh lock with a fencing
number. The token manager (``_tokens``) is the only caller; it relies on these rules:

* :meth:`TokenCache.try_lock` never blocks: it returns a :class:`Lease` or ``None``. Each
  successful call returns a larger ``fence`` than every earlier one for that appid.
* :meth:`TokenCache.put` stores a token only while ``lease`` is the newest lease taken for
  the appid (a holder whose lock expired and was taken over is fenced out).
* :meth:`TokenCache.expire_if` drops the token only if it still is ``value``: a token
  another worker has meanwhile refreshed is never thrown away (compare-and-expire).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["CachedToken", "Lease", "MemoryTokenCache", "TokenCache", "new_owner"]


@dataclass(frozen=True, slots=True)
class CachedToken:
    """An access token and when it expires (Unix milliseconds). The value is hidden in reprs."""

    value: str = field(repr=False)
    expires_at_ms: int

    def remaining(self, now: float) -> float:
        """Seconds until expiry at time ``now`` (Unix seconds); negative once expired."""
        return self.expires_at_ms / 1000.0 - now


@dataclass(frozen=True, slots=True)
class Lease:
    """A held refresh lock: who holds it and its fencing number."""

    owner: str
    fence: int


def new_owner() -> str:
    """A unique lock owner id (random; says nothing about the host)."""
    return uuid.uuid4().hex


@runtime_checkable
class TokenCache(Protocol):
    """Where access tokens live, shared as widely as the implementation allows."""

    async def get(self, appid: str) -> CachedToken | None: ...

    async def put(self, appid: str, token: CachedToken, lease: Lease) -> bool: ...

    async def expire_if(self, appid: str, value: str) -> bool: ...

    async def try_lock(self, appid: str, ttl: float) -> Lease | None: ...

    async def unlock(self, appid: str, lease: Lease) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _Slot:
    token: CachedToken | None = None
    fence: int = 0
    owner: str | None = None
    lock_until: float = 0.0


class MemoryTokenCache:
    """Tokens in this process only (the default without Redis). Safe to share between
    clients and threads of one process; the lock's time-to-live uses ``time.monotonic``."""

    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryTokenCache(appids={len(self._slots)})"

    def _slot(self, appid: str) -> _Slot:
        return self._slots.setdefault(appid, _Slot())

    async def get(self, appid: str) -> CachedToken | None:
        with self._mutex:
            slot = self._slots.get(appid)
            return slot.token if slot else None

    async def put(self, appid: str, token: CachedToken, lease: Lease) -> bool:
        with self._mutex:
            slot = self._slot(appid)
            if slot.fence != lease.fence:
                return False
            slot.token = token
            return True

    async def expire_if(self, appid: str, value: str) -> bool:
        with self._mutex:
            slot = self._slots.get(appid)
            if slot is None or slot.token is None or slot.token.value != value:
                return False
            slot.token = None
            return True

    async def try_lock(self, appid: str, ttl: float) -> Lease | None:

        with self._mutex:
            slot = self._slot(appid)
            now = time.monotonic()
            if slot.owner is not None and slot.lock_until > now:
                return None
            slot.fence += 1
            slot.owner = new_owner()
            slot.lock_until = now + ttl
            return Lease(slot.owner, slot.fence)

    async def unlock(self, appid: str, lease: Lease) -> None:
        with self._mutex:
            slot = self._slots.get(appid)
            if slot is not None and slot.owner == lease.owner:
                slot.owner = None
                slot.lock_until = 0.0

    async def aclose(self) -> None:
        return None
