"""The version of what the webhook caches: scenes, channels' replies and tags, accounts.

The webhook answers from in-memory caches (:class:`wxqr.service.ingest.IngestService`
keeps accounts and scenes for a few seconds). Every service that changes something those
caches hold is given the same :class:`CatalogVersion` by the composition root and calls
:meth:`CatalogVersion.bump` after its commit; the caches compare the version before they
answer and start afresh when it moved. So within one process a change shows at the next
push. Other processes (another ``wxqr serve`` worker, the CLI) learn of it when their
entries expire (the cache TTL, 5 s by default); the writer process is told the serving
process's version with every batch.
"""

from __future__ import annotations

import threading

__all__ = ["CatalogVersion"]


class CatalogVersion:
    """A counter, shared by the services that change cached settings and the caches.

    Thread-safe. ``current`` is read on every push (a plain attribute read); ``bump`` is
    called by every mutation path after its transaction committed.
    """

    __slots__ = ("_lock", "_value")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    @property
    def current(self) -> int:
        """The number of changes seen so far (compare it, never interpret it)."""
        return self._value

    def bump(self) -> None:
        """Say that scenes, channels or accounts changed: caches must reload them."""
        with self._lock:
            self._value += 1

    def __repr__(self) -> str:
        return f"CatalogVersion({self._value})"
