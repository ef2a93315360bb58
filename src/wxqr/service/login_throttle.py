"""Failed dashboard logins, counted per client, so a password cannot be guessed at speed.

A client (the address the request came from) may fail ``max_failures`` times within
``window_seconds``; after that its attempts are refused, without checking the password,
until its oldest failure in the window is older than the window. A successful login
clears the client's record. The count is kept in memory, per serving process: with
``--workers N`` a client gets N times the allowance, which still turns millions of
guesses into a handful per window. At most ``max_clients`` clients are tracked; the
least recently failed ones are forgotten first.
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
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None if it may try now."""
        now = self._clock()
        with self._lock:
            recent = self._recent(client, now)
            if recent is None or len(recent) < self._max_failures:
                return None
            return max(recent[0] + self._window - now, 0.001)

    def failed(self, client: str) -> None:
        """Record a failed attempt of ``client``."""
        now = self._clock()
        with self._lock:
            recent = self._recent(client, now)
            if recent is None:
                recent = deque(maxlen=self._max_failures)
                self._failures[client] = recent
                while len(self._failures) > self._max_clients:
                    self._failures.popitem(last=False)
            recent.append(now)
            self._failures.move_to_end(client)

    def succeeded(self, client: str) -> None:
        """Forget ``client``'s failures (it knows the password)."""
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        recent = self._failures.get(client)
        if recent is None:
            return None
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        if not recent:
            del self._failures[client]
            return None
        return recent
