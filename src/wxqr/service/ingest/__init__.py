"""Recording pushes exactly once: the webhook's hot path behind :class:`IngestService`.

The modules, in the order a push goes through them (docs/architecture.md, "One push
from socket to row"):
``_service`` (the webhook's entry), ``_directory`` and ``_model`` (account and push),
``_writer`` / ``_process`` (group commit in a thread / in a writer process, whose
messages are ``_wire``'s and whose entry point is ``_child``), ``_recording`` (one
transaction per batch), ``_catalog``, ``_followers``, ``_jobs`` and ``_sql`` (what the
transaction reads and writes).

:func:`record_pushes` is the same recording without a writer (one transaction, for
imports and tests).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from ._catalog import SceneCatalog
from ._directory import KnownAccount
from ._jobs import JobPolicy
from ._model import (
    IncomingPush,
    IngestUnavailable,
    Recorded,
    ReplayedSignature,
    SceneInfo,
    event_kind,
    incoming_push,
    signature_fingerprint,
)
from ._recording import record_batch
from ._service import IngestOptions, IngestService
from ._wire import WriterConfig

__all__ = [
    "IncomingPush",
    "IngestOptions",
    "IngestService",
    "IngestUnavailable",
    "JobPolicy",
    "KnownAccount",
    "Recorded",
    "ReplayedSignature",
    "SceneInfo",
    "WriterConfig",
    "event_kind",
    "incoming_push",
    "record_pushes",
    "signature_fingerprint",
]


def record_pushes(
    engine: Engine,
    items: Sequence[IncomingPush],
    *,
    policy: JobPolicy | None = None,
) -> list[Recorded]:
    """Record ``items`` in one transaction (no writer, no cache); one result per item.

    Raises :class:`ReplayedSignature` (nothing recorded) if an item carries a signed
    query already recorded with another body."""
    with engine.begin() as conn:
        results = record_batch(conn, items, SceneCatalog(ttl=0), policy or JobPolicy())
        recorded = [r for r in results if isinstance(r, Recorded)]
        if len(recorded) != len(results):
            conn.rollback()
            raise ReplayedSignature("signed query already used with another body")
        return recorded
