"""Dashboard login attempts: counted per (user name, client) and shared by every serving
process, and a cap on how many password checks run at once, so a password cannot be
guessed at speed and a flood of guesses cannot starve the webhook.

The dashboard counts under :func:`login_key` (the name and the client address together):
a colleague behind the same NAT address still logs in while one person's typos lock
their own name out, and the same name from another address still logs in.

A client (the address the request came from; ``X-Forwarded-For`` counts only from the
proxies of ``WXQR_TRUSTED_PROXIES``, see docs/security.md) may make ``max_failures``
attempts that do not succeed within a window; after that its attempts are refused,
without checking the password, until the window ends. An attempt is counted when it
starts (:meth:`LoginThrottle.attempt`), not when its password check ends, so concurrent
guesses get no more tries than sequential ones; a successful login clears the client's
record (:meth:`LoginThrottle.succeeded`).

Where the counts live (:func:`login_throttle_for`): in Redis when ``WXQR_REDIS_URL`` is
set, else in the store's ``login_attempts`` table; both are shared by every worker
process (``wxqr serve --workers N`` gives a client no more tries). Both count in a fixed
window that starts at the client's first failure. :class:`MemoryLoginThrottle` (one
process, a sliding window) is for tests and embedding.

:class:`PasswordCheckGate` caps the password checks (scrypt: ~40 ms and 16 MiB each)
running at once in a process; a login beyond the cap is answered 503 at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, Self

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.service.errors import UnavailableError
from wxqr.store.tables import login_attempts

if TYPE_CHECKING:  # pragma: no cover
    from redis import Redis

    from wxqr.settings import Settings

__all__ = [
    "LoginThrottle",
    "MemoryLoginThrottle",
    "PasswordCheckGate",
    "RedisLoginThrottle",
    "StoreLoginThrottle",
    "login_key",
    "login_throttle_for",
]

# Client addresses are at most 45 characters (IPv6 with an IPv4 tail); longer is cut.
_CLIENT_LENGTH = 64


def login_key(name: str, client: str) -> str:
    """The key failed logins are counted under: the user name *and* the client together,
    so one person's typos do not lock out the rest of an office behind one NAT address,
    and a guesser of one name is stopped whatever other names they try. Hashed: a fixed
    64 characters for the store and Redis, and no user name in either."""
    folded = name.strip().casefold()
    joined = f"{len(folded)}:{folded}\x00{client}"  # the length: no two pairs join alike
    return hashlib.sha256(joined.encode()).hexdigest()


def _check_limits(max_failures: int, window_seconds: float) -> None:
    if max_failures < 1 or window_seconds <= 0:
        raise ValueError("max_failures and window_seconds must be positive")


class LoginThrottle(Protocol):
    """Failed-login counts per client (thread-safe)."""

    def attempt(self, client: str) -> float | None:
        """Start an attempt of ``client``: None if it may go on (it counts as failed unless
        :meth:`succeeded` follows), else the seconds until it may try again (not counted)."""
        ...

    def succeeded(self, client: str) -> None:
        """Forget ``client``'s failures (it knows the password)."""
        ...


class MemoryLoginThrottle:
    """Counts in this process's memory, in a sliding window; at most ``max_clients``
    clients are tracked (the least recently seen are forgotten first)."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_seconds: float = 900.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 1 or window_seconds <= 0 or max_clients < 1:
            raise ValueError("max_failures, window_seconds and max_clients must be positive")
        self._max_failures = max_failures
        self._window = window_seconds
        self._max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def attempt(self, client: str) -> float | None:
        now = self._clock()
        with self._lock:
            recent = self._recent(client, now)
            if recent is not None and len(recent) >= self._max_failures:
                return max(recent[0] + self._window - now, 0.001)
            if recent is None:
                recent = deque(maxlen=self._max_failures)
                self._attempts[client] = recent
                while len(self._attempts) > self._max_clients:
                    self._attempts.popitem(last=False)
            recent.append(now)
            self._attempts.move_to_end(client)
            return None

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._attempts.pop(client, None)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        recent = self._attempts.get(client)
        if recent is None:
            return None
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        if not recent:
            del self._attempts[client]
            return None
        return recent


class StoreLoginThrottle:
    """Counts in the store's ``login_attempts`` table (one row per client, a fixed window).

    Each step is one conditional statement, so concurrent attempts of one client (from
    any process) are counted exactly: the row's lock serialises them. Rows of windows
    that ended are deleted whenever a new client's row is made.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_failures: int = 5,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_limits(max_failures, window_seconds)
        self._engine = engine
        self._max_failures = max_failures
        self._window_ms = int(window_seconds * 1000)
        self._clock = clock

    def attempt(self, client: str) -> float | None:
        client = client[:_CLIENT_LENGTH]
        t = login_attempts
        for _ in range(3):  # another process may make or renew the row in between
            now = int(self._clock() * 1000)
            live = now - self._window_ms  # windows that started after this are running
            with self._engine.begin() as conn:
                counted = conn.execute(
                    update(t)
                    .where(
                        t.c.client == client,
                        t.c.window_start > live,
                        t.c.failures < self._max_failures,
                    )
                    .values(failures=t.c.failures + 1)
                )
                if counted.rowcount:
                    return None
                row = conn.execute(select(t.c.window_start).where(t.c.client == client)).first()
                if row is not None and int(row[0]) > live:  # full: refused, not counted
                    return max((int(row[0]) + self._window_ms - now) / 1000, 0.001)
                if row is not None:  # its window ended: a new one starts
                    renewed = conn.execute(
                        update(t)
                        .where(t.c.client == client, t.c.window_start <= live)
                        .values(failures=1, window_start=now)
                    )
                    if renewed.rowcount:
                        return None
                    continue
                try:
                    with conn.begin_nested():
                        conn.execute(insert(t).values(client=client, failures=1, window_start=now))
                except IntegrityError:
                    continue
                conn.execute(delete(t).where(t.c.window_start <= live))
                return None
        return 1.0  # pragma: no cover - three races in a row: let the client retry

    def succeeded(self, client: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(login_attempts).where(login_attempts.c.client == client[:_CLIENT_LENGTH])
            )


class RedisLoginThrottle:
    """Counts in Redis: a counter per client that expires with its (fixed) window."""

    PREFIX = "wxqr:login-failures:"

    def __init__(
        self,
        redis: Redis,
        *,
        max_failures: int = 5,
        window_seconds: float = 900.0,
    ) -> None:
        _check_limits(max_failures, window_seconds)
        self._redis = redis
        self._max_failures = max_failures
        self._window_ms = int(window_seconds * 1000)

    @classmethod
    def from_url(cls, url: str, *, max_failures: int = 5, window_seconds: float = 900.0) -> Self:
        from redis import Redis  # optional dependency: wxqr[redis]

        client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, max_failures=max_failures, window_seconds=window_seconds)

    def _key(self, client: str) -> str:
        return self.PREFIX + client[:_CLIENT_LENGTH]

    def attempt(self, client: str) -> float | None:
        from redis import RedisError

        key = self._key(client)
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(key, 0, px=self._window_ms, nx=True)
            pipe.incr(key)
            pipe.pttl(key)
            _made, count, ttl_ms = pipe.execute()
        except RedisError:
            raise UnavailableError("the login throttle (Redis) cannot be reached") from None
        if int(count) > self._max_failures:
            return max(int(ttl_ms) / 1000, 0.001)
        return None

    def succeeded(self, client: str) -> None:
        from redis import RedisError

        try:
            self._redis.delete(self._key(client))
        except RedisError:
            raise UnavailableError("the login throttle (Redis) cannot be reached") from None


def login_throttle_for(
    settings: Settings, engine: Engine, *, clock: Callable[[], float] = time.time
) -> LoginThrottle:
    """The throttle every process of an install shares: Redis with ``WXQR_REDIS_URL``,
    else the store."""
    if settings.redis_url:
        return RedisLoginThrottle.from_url(
            settings.redis_url,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
        )
    return StoreLoginThrottle(
        engine,
        max_failures=settings.login_max_failures,
        window_seconds=settings.login_window_seconds,
        clock=clock,
    )


class PasswordCheckGate:
    """At most ``limit`` password checks at once in this process; :meth:`try_enter` says
    at once (never waits) whether one more may start, and :meth:`leave` ends it."""

    def __init__(self, limit: int = 2) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def try_enter(self) -> bool:
        return self._slots.acquire(blocking=False)

    def leave(self) -> None:
        self._slots.release()
