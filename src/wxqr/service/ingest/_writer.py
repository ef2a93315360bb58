"""The group-commit writer thread, and what every writer shares.

Handlers on the event loop :meth:`~GroupCommitWriter.submit` a push with an asyncio
future; the writer takes everything queued (up to ``batch_max``), records it in one
transaction (:class:`~._recording.BatchRecorder`), commits, and only then resolves the
futures (one wake-up of each event loop per batch). While one batch commits the next one
fills up, so the batch size follows the load by itself and no push waits for a timer.

:class:`GroupCommitWriter` does this in a thread of the serving process; it works on any
database, in-memory SQLite included. :class:`~._process.ProcessWriter` does the same in
a process of its own, so the database work does not share the GIL with the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from ._catalog import SceneCatalog
from ._jobs import JobPolicy
from ._model import IncomingPush, IngestUnavailable, Outcome, Recorded
from ._recording import BatchRecorder

__all__ = ["GroupCommitWriter", "Pending", "PushWriter", "resolve"]


@dataclass(slots=True, eq=False)
class Pending:
    """A push waiting for its batch, with the future its handler awaits."""

    item: IncomingPush
    deadline: float  # time.monotonic()
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Recorded] = field(repr=False)


class PushWriter(Protocol):
    """What :class:`~._service.IngestService` needs of a writer."""

    on_commit: Callable[[Sequence[Recorded]], None] | None
    # ops: called after each batch with (pushes in it, seconds its commit took); metrics.
    on_batch: Callable[[int, float], None] | None

    @property
    def running(self) -> bool: ...  # ops: for /readyz

    def start(self) -> None: ...

    def submit(self, pending: Pending) -> None: ...

    def close(self, timeout: float = 10.0) -> None: ...

    async def aclose(self, grace: float = 10.0) -> None: ...


def resolve(pairs: Sequence[tuple[Pending, Outcome]]) -> None:
    """Resolve the futures of ``pairs`` (on their loop's thread); a future whose handler
    has already given up is left alone."""
    for pending, outcome in pairs:
        if pending.future.done():
            continue
        if isinstance(outcome, BaseException):
            pending.future.set_exception(outcome)
        else:
            pending.future.set_result(outcome)


def _deliver(pairs: Sequence[tuple[Pending, Outcome]]) -> None:
    """:func:`resolve` on each future's loop (from the writer thread)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Pending, Outcome]]] = {}
    for pair in pairs:
        by_loop.setdefault(pair[0].loop, []).append(pair)
    for loop, group in by_loop.items():
        # A closed loop raises RuntimeError: nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(resolve, group)


class GroupCommitWriter:
    """A daemon thread recording submitted pushes in group-commit batches."""

    def __init__(
        self,
        engine: Engine,
        *,
        batch_max: int = 1000,
        catalog: SceneCatalog | None = None,
        policy: Callable[[], JobPolicy] = JobPolicy,
        on_commit: Callable[[Sequence[Recorded]], None] | None = None,
        signature_ttl: float = 86400.0,
    ) -> None:
        self._recorder = BatchRecorder(engine, catalog, signature_ttl=signature_ttl)
        self._batch_max = batch_max
        self._policy = policy
        self.on_commit = on_commit
        self.on_batch: Callable[[int, float], None] | None = None  # ops: metrics
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def batches(self) -> int:
        return self._recorder.batches

    @property
    def recorded(self) -> int:
        return self._recorder.recorded

    @property
    def pending(self) -> int:
        """ops: pushes queued for the thread (metrics)."""
        return self._queue.qsize()

    @property
    def running(self) -> bool:
        """ops: started, not closed, and its thread alive (/readyz)."""
        thread = self._thread
        return not self._closed and thread is not None and thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="wxqr-ingest-writer", daemon=True
                )
                self._thread.start()

    def submit(self, pending: Pending) -> None:
        if self._closed:
            raise IngestUnavailable("the writer is shut down")
        if self._thread is None:
            self.start()
        self._queue.put(pending)

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    async def aclose(self, grace: float = 10.0) -> None:
        await asyncio.to_thread(self.close, grace)

    def _take(self) -> tuple[list[Pending], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        stop = False
        while len(batch) < self._batch_max:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                stop = True
                break
            batch.append(more)
        return batch, stop

    def _run(self) -> None:
        while True:
            batch, stop = self._take()
            live = [p for p in batch if not p.future.done()]
            if live:
                started = time.perf_counter()  # ops: batch commit time
                outcomes = self._recorder.write(
                    [(p.item, p.deadline) for p in live], self._policy()
                )
                if self.on_batch is not None:  # ops
                    self.on_batch(len(live), time.perf_counter() - started)
                recorded = [o for o in outcomes if isinstance(o, Recorded)]
                if recorded and self.on_commit is not None:
                    self.on_commit(recorded)
                _deliver(list(zip(live, outcomes, strict=True)))
            if stop:
                return
