"""Waiting for a session to change, across workers and hosts, without a query per waiter.

Every waiter of a process registers with the one :class:`SessionWatcher`; while any is
waiting, its thread reads the (status, scans) of *all* waited sessions in one query every
``interval`` seconds (0.2 s: completion is seen well within the promised second whichever
process recorded the push) and wakes the waiters whose session changed. With no waiter
it reads nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SessionWatcher", "Snapshot"]

log = logging.getLogger(__name__)

#: (status, scans) of a session: a waiter is woken when it differs from what it saw.
Snapshot = tuple[str, int]


@dataclass(eq=False)
class _Waiter:
    session_id: int
    seen: Snapshot
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Snapshot | None]


class SessionWatcher:
    """One per process; ``read(ids)`` gives the current snapshots (missing = gone)."""

    def __init__(
        self, read: Callable[[list[int]], dict[int, Snapshot]], *, interval: float = 0.2
    ) -> None:
        self._read = read
        self._interval = interval
        self._waiters: set[_Waiter] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.reads = 0  # how many queries the watcher made (tests, metrics)

    async def wait(self, session_id: int, seen: Snapshot, seconds: float) -> Snapshot | None:
        """The session's new snapshot once it differs from ``seen`` (None: gone), or
        ``seen`` when ``seconds`` pass first."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(session_id, seen, loop, loop.create_future())
        with self._lock:
            self._waiters.add(waiter)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="wxqr-session-watcher", daemon=True
                )
                self._thread.start()
        self._wake.set()
        try:
            async with asyncio.timeout(seconds):
                return await waiter.future
        except TimeoutError:
            return seen
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _run(self) -> None:
        while True:
            with self._lock:
                waiters = list(self._waiters)
            if not waiters:
                self._wake.clear()
                if not self._wake.wait(30.0):
                    with self._lock:
                        if not self._waiters:
                            self._thread = None
                            return
                continue
            try:
                current = self._read(sorted({w.session_id for w in waiters}))
                self.reads += 1
            except Exception:  # the store hiccupped: try again at the next tick
                log.warning("reading waited scan sessions failed", exc_info=True)
                current = None
            if current is not None:
                for waiter in waiters:
                    now = current.get(waiter.session_id)
                    if now != waiter.seen:
                        with contextlib.suppress(RuntimeError):  # its loop is closed
                            waiter.loop.call_soon_threadsafe(_settle, waiter.future, now)
            threading.Event().wait(self._interval)


def _settle(future: asyncio.Future[Snapshot | None], value: Snapshot | None) -> None:
    if not future.done():
        future.set_result(value)
