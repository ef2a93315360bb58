"""Writing one group-commit batch with retries: shared by the writer thread and process.

:class:`BatchRecorder` knows nothing of futures, threads or processes: it takes pushes
with their deadlines, records them in one transaction and says, for each, either what
was recorded or why it could not be made durable in time. A transient database error
(a lock, a dropped connection) is retried with backoff until the earliest deadline of
the batch; a batch that fails for a reason of its own is split, so one bad push cannot
hold back the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from ._batch import record_batch
from ._catalog import SceneCatalog
from ._jobs import JobPolicy
from ._model import IncomingPush, Recorded
from ._sql import analyze

__all__ = ["BatchRecorder", "IngestUnavailable", "Outcome"]

log = logging.getLogger(__name__)


class IngestUnavailable(Exception):
    """The push could not be made durable in time (answer 5xx so WeChat retries)."""


Outcome = Recorded | IngestUnavailable


class BatchRecorder:
    """Records batches of ``(push, deadline)`` on ``engine``, one transaction per batch.

    Deadlines are ``time.monotonic()`` values (the same clock in every process of the
    machine). Not thread-safe: one recorder per writer.
    """

    def __init__(self, engine: Engine, catalog: SceneCatalog | None = None) -> None:
        self._engine = engine
        self.catalog = catalog or SceneCatalog()
        self.batches = 0
        self.recorded = 0
        self._new_since_analyze = 0
        self._analyze_at = 1000
        self._analyzing: threading.Thread | None = None

    def write(
        self, entries: Sequence[tuple[IncomingPush, float]], policy: JobPolicy
    ) -> list[Outcome]:
        """One outcome per entry, in order. Entries already past their deadline are not
        written (their handlers have answered 5xx)."""
        now = time.monotonic()
        outcomes: list[Outcome | None] = [None] * len(entries)
        live: list[int] = []
        for index, (_item, deadline) in enumerate(entries):
            if deadline > now:
                live.append(index)
            else:
                outcomes[index] = IngestUnavailable("deadline passed before the write")
        if live:
            written = self._write([entries[i] for i in live], policy)
            for index, outcome in zip(live, written, strict=True):
                outcomes[index] = outcome
        return [o if o is not None else IngestUnavailable("not written") for o in outcomes]

    def _write(
        self, batch: Sequence[tuple[IncomingPush, float]], policy: JobPolicy
    ) -> list[Outcome]:
        delay = 0.01
        while True:
            try:
                results = self._transaction([item for item, _ in batch], policy)
            except (OperationalError, DBAPIError) as exc:
                transient = isinstance(exc, OperationalError) or exc.connection_invalidated
                if not transient and len(batch) > 1:
                    return self._split(batch, policy)
                if not transient or time.monotonic() + delay >= min(d for _, d in batch):
                    log.warning("ingest batch of %d failed: %s", len(batch), type(exc).__name__)
                    return [IngestUnavailable("the store is unavailable") for _ in batch]
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except Exception as exc:  # a bug must not kill the writer
                log.exception("ingest batch of %d failed", len(batch))
                if len(batch) > 1:
                    return self._split(batch, policy)
                return [IngestUnavailable(type(exc).__name__)]
            else:
                self.batches += 1
                self.recorded += len(batch)
                self._maybe_analyze(sum(1 for r in results if r.inserted))
                return list(results)

    def _split(
        self, batch: Sequence[tuple[IncomingPush, float]], policy: JobPolicy
    ) -> list[Outcome]:
        middle = len(batch) // 2
        return self._write(batch[:middle], policy) + self._write(batch[middle:], policy)

    def _transaction(self, items: list[IncomingPush], policy: JobPolicy) -> list[Recorded]:
        with self._engine.begin() as conn:
            return record_batch(conn, items, self.catalog, policy)

    def _maybe_analyze(self, inserted: int) -> None:
        """ANALYZE each time the events table has doubled since the last time (PostgreSQL),
        in a thread of its own: batches go on meanwhile (ANALYZE does not block inserts),
        so it adds no latency to the pushes waiting for the next commit."""
        self._new_since_analyze += inserted
        if self._new_since_analyze < self._analyze_at or self._engine.dialect.name == "sqlite":
            return
        if self._analyzing is not None and self._analyzing.is_alive():
            return  # the next doubling will catch up
        self._analyze_at = max(self._analyze_at, self._new_since_analyze) * 2
        self._analyzing = threading.Thread(target=self._analyze, name="wxqr-analyze", daemon=True)
        self._analyzing.start()

    def _analyze(self) -> None:
        try:
            with self._engine.begin() as conn:
                analyze(conn)
        except DBAPIError as exc:
            log.warning("ANALYZE of the ingest tables failed: %s", type(exc).__name__)
