"""Failed dashboard logins, counted per client, so a password cannot be guessed at speed.

A client (the address the request came from) may make ``max_failures`` attempts within
``window_seconds`` that do not succeed; after that its attempts are refused, without
checking the password, until its oldest one is older than the window. An attempt is
counted when it starts (:meth:`LoginThrottle.attempt`), not when its password check ends,
so many concurrent guesses get no more tries than sequential ones; a successful login
clears the client's record (:meth:`LoginThrottle.succeeded`). The count is kept in
memory, per serving process: with ``--workers N`` a client gets N times the allowance,
which still turns millions of guesses into a handful per window. At most
``max_clients`` clients are tracked; the least recently seen ones are forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """Thread-safe record of recent failed logins per client."""

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
        """Start an attempt of ``client``: None if it may go on (it counts as failed unless
        :meth:`succeeded` follows), else the seconds until it may try again (not counted)."""
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
        """Forget ``client``'s failures (it knows the password)."""
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
