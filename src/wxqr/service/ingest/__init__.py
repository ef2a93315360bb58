"""Recording pushes exactly once: classify, group-commit, followers, jobs, answers.

The webhook calls :class:`IngestService`; :func:`record_pushes` is the same recording
without the writer thread (one transaction, for imports and tests).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from ._batch import record_batch
from ._catalog import SceneCatalog, invalidate_catalog
from ._directory import AccountDirectory, KnownAccount
from ._followers import FollowerState, apply_event
from ._jobs import JOB_TAG_FOLLOWER, JOB_USER_INFO, JobPolicy
from ._model import (
    KINDS,
    IncomingPush,
    Recorded,
    SceneInfo,
    UnstorablePush,
    event_kind,
    incoming_push,
)
from ._process import ProcessWriter, WriterConfig
from ._recorder import BatchRecorder
from ._service import IngestOptions, IngestService
from ._writer import GroupCommitWriter, IngestUnavailable, Pending, PushWriter

__all__ = [
    "JOB_TAG_FOLLOWER",
    "JOB_USER_INFO",
    "KINDS",
    "AccountDirectory",
    "BatchRecorder",
    "FollowerState",
    "GroupCommitWriter",
    "IncomingPush",
    "IngestOptions",
    "IngestService",
    "IngestUnavailable",
    "JobPolicy",
    "KnownAccount",
    "Pending",
    "ProcessWriter",
    "PushWriter",
    "Recorded",
    "SceneCatalog",
    "SceneInfo",
    "UnstorablePush",
    "WriterConfig",
    "apply_event",
    "event_kind",
    "incoming_push",
    "invalidate_catalog",
    "record_pushes",
]


def record_pushes(
    engine: Engine,
    items: Sequence[IncomingPush],
    *,
    policy: JobPolicy | None = None,
    catalog: SceneCatalog | None = None,
) -> list[Recorded]:
    """Record ``items`` in one transaction (no writer thread); one result per item."""
    with engine.begin() as conn:
        return record_batch(conn, items, catalog or SceneCatalog(ttl=0), policy or JobPolicy())
