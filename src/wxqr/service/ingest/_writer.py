"""The group-commit writer: one thread that records pushes in batches.

Handlers on the event loop :meth:`~GroupCommitWriter.submit` a push with an asyncio
future; the thread takes everything queued (up to ``batch_max``), records it in one
transaction, commits, and only then resolves the futures (one wake-up of each event loop
per batch). While one batch commits the next one fills up, so the batch size follows the
load by itself and no push waits for a timer.

A push whose deadline has passed before its batch starts is dropped (its handler has
already answered 503, and WeChat will retry). When a batch fails it is retried until the
deadlines run out; a batch that fails for a reason of its own is split so that one bad
push cannot hold back the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from ._batch import record_batch
from ._catalog import SceneCatalog
from ._jobs import JobPolicy
from ._model import IncomingPush, Recorded
from ._sql import analyze

__all__ = ["GroupCommitWriter", "IngestUnavailable", "Pending"]

log = logging.getLogger(__name__)


class IngestUnavailable(Exception):
    """The push could not be made durable in time (answer 5xx so WeChat retries)."""


@dataclass(slots=True, eq=False)
class Pending:
    """A push waiting for its batch, with the future its handler awaits."""

    item: IncomingPush
    deadline: float  # time.monotonic()
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Recorded] = field(repr=False)


def _deliver(pairs: list[tuple[Pending, Recorded | BaseException]]) -> None:
    for pending, outcome in pairs:
        if pending.future.done():
            continue
        if isinstance(outcome, BaseException):
            pending.future.set_exception(outcome)
        else:
            pending.future.set_result(outcome)


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
    ) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._catalog = catalog or SceneCatalog()
        self._policy = policy
        self.on_commit = on_commit
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0
        self.recorded = 0
        self._new_since_analyze = 0
        self._analyze_at = 1000

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

    # -- the thread ---------------------------------------------------------------------

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
            if batch:
                self._process(batch)
            if stop:
                return

    def _process(self, batch: list[Pending]) -> None:
        now = time.monotonic()
        live: list[Pending] = []
        expired: list[Pending] = []
        for pending in batch:
            (live if pending.deadline > now and not pending.future.done() else expired).append(
                pending
            )
        self._send([(p, IngestUnavailable("deadline passed before the write")) for p in expired])
        if live:
            self._send(self._write(live))

    def _write(self, batch: list[Pending]) -> list[tuple[Pending, Recorded | BaseException]]:
        delay = 0.01
        while True:
            try:
                results = self._transaction([p.item for p in batch])
            except (OperationalError, DBAPIError) as exc:
                transient = isinstance(exc, OperationalError) or exc.connection_invalidated
                if not transient and len(batch) > 1:
                    middle = len(batch) // 2
                    return self._write(batch[:middle]) + self._write(batch[middle:])
                if not transient or time.monotonic() + delay >= min(p.deadline for p in batch):
                    log.warning("ingest batch of %d failed: %s", len(batch), type(exc).__name__)
                    return [(p, IngestUnavailable("the store is unavailable")) for p in batch]
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except Exception as exc:  # a bug must not kill the writer thread
                log.exception("ingest batch of %d failed", len(batch))
                if len(batch) > 1:
                    middle = len(batch) // 2
                    return self._write(batch[:middle]) + self._write(batch[middle:])
                return [(batch[0], IngestUnavailable(type(exc).__name__))]
            else:
                self.batches += 1
                self.recorded += len(batch)
                self._maybe_analyze(sum(1 for r in results if r.inserted))
                if self.on_commit is not None:
                    self.on_commit(results)
                return list(zip(batch, results, strict=True))

    def _transaction(self, items: list[IncomingPush]) -> list[Recorded]:
        with self._engine.begin() as conn:
            return record_batch(conn, items, self._catalog, self._policy())

    def _maybe_analyze(self, inserted: int) -> None:
        """ANALYZE each time the events table has doubled since the last time (PostgreSQL)."""
        self._new_since_analyze += inserted
        if self._new_since_analyze < self._analyze_at:
            return
        self._analyze_at = max(self._analyze_at, self._new_since_analyze) * 2
        try:
            with self._engine.begin() as conn:
                analyze(conn)
        except DBAPIError as exc:
            log.warning("ANALYZE of the ingest tables failed: %s", type(exc).__name__)

    @staticmethod
    def _send(pairs: list[tuple[Pending, Recorded | BaseException]]) -> None:
        by_loop: dict[
            asyncio.AbstractEventLoop, list[tuple[Pending, Recorded | BaseException]]
        ] = {}
        for pair in pairs:
            by_loop.setdefault(pair[0].loop, []).append(pair)
        for loop, group in by_loop.items():
            # A closed loop raises RuntimeError: nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_deliver, group)
