"""Recording a group-commit batch: one transaction, each push exactly once, in time.

The story of a batch, top to bottom:

1. :meth:`BatchRecorder.write` drops the pushes already past their deadline (their
   handlers have answered 503) and hands the rest to one transaction.
2. :func:`record_batch` is that transaction. It takes the ingest lock of the batch's
   accounts (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory transaction lock per
   account), so which pushes are new is known exactly from one SELECT of their dedup keys,
   even with several wxqr processes on one database. Only new pushes change followers and
   enqueue jobs; unfollows are attributed from the follower row as it stands when they
   are recorded (first-touch channel). The unique (account_id, dedup_key) constraint,
   with ``ON CONFLICT DO NOTHING``, stays the last line of defence. Under the same lock
   the replay guard refuses a push whose signed query was already recorded with another
   body (issue 14), and an unfollow erases what WeChat's user/info said of the user.
3. A transient database error (a lock, a dropped connection) is retried with backoff
   until the earliest deadline of the batch; a batch that fails for a reason of its own
   is split in halves, so one bad push cannot hold back the others.
4. The caller gets one :data:`~._model.Outcome` per push, in order: what was recorded
   (durable: committed) or why it could not be made durable in time.

:class:`BatchRecorder` knows nothing of futures, threads or processes; the writer thread
(:mod:`._writer`) and the writer process (:mod:`._child`) both use it.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from wxqr.service.scan_sessions._ingest import (  # scan-sessions:
    apply_session_scans,
    session_replies,
)
from wxqr.service.webhooks._types import event_types_of_kind

from ._catalog import SceneCatalog
from ._followers import FollowerState, apply_event, follower_changes, state_from_row
from ._jobs import JobPolicy, jobs_for
from ._model import (
    IncomingPush,
    IngestUnavailable,
    Outcome,
    Recorded,
    ReplayedSignature,
    SceneInfo,
)
from ._sql import analyze, prefetch, prune_signatures, write

__all__ = ["BatchRecorder", "record_batch"]

log = logging.getLogger(__name__)

_FOLLOWER_KINDS = frozenset({"subscribe_scan", "subscribe", "scan", "unsubscribe"})


class BatchRecorder:
    """Records batches of ``(push, deadline)`` on ``engine``, one transaction per batch.

    Deadlines are ``time.monotonic()`` values (the same clock in every process of the
    machine). Not thread-safe: one recorder per writer.
    """

    def __init__(
        self,
        engine: Engine,
        catalog: SceneCatalog | None = None,
        *,
        signature_ttl: float = 86400.0,
    ) -> None:
        self._engine = engine
        self.catalog = catalog or SceneCatalog()
        # Signed queries are remembered this long (the freshness window), then pruned.
        self._signature_ttl = signature_ttl
        self._prune_at = time.monotonic() + min(signature_ttl, 60.0)
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
        """One transaction for ``batch``: retried while transient, split when not."""
        delay = 0.01
        while True:
            try:
                with self._engine.begin() as conn:
                    items = [item for item, _ in batch]
                    results = record_batch(conn, items, self.catalog, policy, commit=True)
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
                self._maybe_analyze(
                    sum(1 for r in results if isinstance(r, Recorded) and r.inserted)
                )
                self._maybe_prune()
                return list(results)

    def _split(
        self, batch: Sequence[tuple[IncomingPush, float]], policy: JobPolicy
    ) -> list[Outcome]:
        middle = len(batch) // 2
        return self._write(batch[:middle], policy) + self._write(batch[middle:], policy)

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

    def _maybe_prune(self) -> None:
        """Forget the signed queries older than the freshness window, once a minute at
        most (one indexed DELETE, after a commit: never inside a batch)."""
        now = time.monotonic()
        if now < self._prune_at:
            return
        self._prune_at = now + min(self._signature_ttl, 60.0)
        try:
            with self._engine.begin() as conn:
                prune_signatures(conn, int(time.time() - self._signature_ttl))
        except DBAPIError as exc:
            log.warning("pruning push signatures failed: %s", type(exc).__name__)

    def _analyze(self) -> None:
        try:
            with self._engine.begin() as conn:
                analyze(conn)
        except DBAPIError as exc:
            log.warning("ANALYZE of the ingest tables failed: %s", type(exc).__name__)


def record_batch(
    conn: Connection,
    items: Sequence[IncomingPush],
    catalog: SceneCatalog,
    policy: JobPolicy,
    *,
    commit: bool = False,
) -> list[Recorded | ReplayedSignature]:
    """Record ``items`` inside the caller's transaction; one result per item, in order.

    ``commit``: end the transaction with the writes (on PostgreSQL that saves a round
    trip per batch; the caller's commit then has nothing left to do)."""
    # 1. What the scanned scenes are (cache, then one query for the rest).
    scene_keys = {(i.account_id, i.scene) for i in items if i.is_scan and i.scene is not None}
    scenes = catalog.resolve(conn, scene_keys) if scene_keys else {}
    scenes = {**scenes, **_session_infos(conn, items)}  # scan-sessions: their own scenes

    def info_of(item: IncomingPush) -> SceneInfo | None:
        if not item.is_scan or item.scene is None:
            return None
        return scenes.get((item.account_id, item.scene))

    # 2. Under the accounts' ingest lock: which pushes are new, their followers' rows, and
    #    which bodies were recorded under the batch's signed queries.
    dedup_keys = list(dict.fromkeys((item.account_id, item.dedup_key) for item in items))
    follower_keys = [(i.account_id, i.openid) for i in items if i.kind in _FOLLOWER_KINDS]
    now = int(time.time())
    claims = _claims(items, now)
    found = prefetch(conn, dedup_keys, follower_keys, claims)
    refused, signatures = _replay_guard(items, found.signatures, now)
    if found.claimed:
        signatures = []  # inserted by prefetch already
    unique: dict[tuple[int, str], IncomingPush] = {}
    for index, item in enumerate(items):
        if index not in refused:
            unique.setdefault((item.account_id, item.dedup_key), item)
    stored, follower_rows = found.stored, found.followers
    new_keys = set(unique) - stored
    new_items = [item for key, item in unique.items() if key in new_keys]

    # 3. The new pushes, in order, through the follower state machine.
    before = {key: state_from_row(row) for key, row in follower_rows.items()}
    after: dict[tuple[int, str], FollowerState] = dict(before)
    rows = []
    for item in new_items:
        info = info_of(item)
        channel_id = info.channel_id if info else None
        if item.kind in _FOLLOWER_KINDS:
            key = (item.account_id, item.openid)
            state = after.get(key)
            if item.kind == "unsubscribe":
                channel_id = state.first_channel_id if state else None
            changed = apply_event(
                state, item.kind, at=item.create_time, scene=item.scene, channel_id=channel_id
            )
            if changed is not None:
                after[key] = changed
        rows.append(_event_row(item, info, channel_id))

    # 4. Events, follower inserts and updates, jobs, signatures: written together (and
    #    committed). An unfollow also erases what WeChat's user/info said of the user.
    inserts, updates = follower_changes(before, after, now=now)
    unfollowed = sorted({(i.account_id, i.openid) for i in new_items if i.kind == "unsubscribe"})
    jobs = [
        (item.account_id, kind.value, json.dumps(payload), "pending", 0, now, now, now)
        for item in new_items
        for kind, payload in jobs_for(item, info_of(item), policy)
    ]
    # The outbound webhooks' outbox, in the events' own transaction (docs/webhooks.md).
    outbox = [
        (item.account_id, item.dedup_key, item.kind, item.openid, item.received_at)
        for item in new_items
        if event_types_of_kind(item.kind)
    ]
    outbox += apply_session_scans(conn, new_items)  # scan-sessions: complete sessions
    write(
        conn,
        rows,
        inserts,
        updates,
        jobs,
        outbox,
        signatures=signatures,
        unfollowed=unfollowed,
        commit=commit,
    )

    # 5. One result per item; a push repeated within the batch is inserted once.
    results: list[Recorded | ReplayedSignature] = []
    first_seen: set[tuple[int, str]] = set()
    for index, item in enumerate(items):
        if index in refused:
            results.append(ReplayedSignature("signed query already used with another body"))
            continue
        key = (item.account_id, item.dedup_key)
        info = info_of(item)
        results.append(
            Recorded(
                inserted=key in new_keys and key not in first_seen,
                scene_info=info,
                orphan=item.is_scan and info is None,
            )
        )
        first_seen.add(key)
    return results


def _claims(items: Sequence[IncomingPush], now: int) -> list[tuple[int, str, str, int]]:
    """The batch's signature rows (SIGNATURE_COLUMNS), the first body of each key."""
    first: dict[tuple[int, str], tuple[int, str, str, int]] = {}
    for item in items:
        if item.signed_key is not None and item.body_digest is not None:
            key = (item.account_id, item.signed_key)
            first.setdefault(key, (item.account_id, item.signed_key, item.body_digest, now))
    return list(first.values())


def _replay_guard(
    items: Sequence[IncomingPush], recorded: dict[tuple[int, str], str], now: int
) -> tuple[set[int], list[tuple[int, str, str, int]]]:
    """(indexes of the items to refuse, signature rows to insert).

    The first body seen under a signed query (in the store, else first in the batch)
    is the push; the same body again is WeChat's retry (the dedup key then makes it a
    no-op); any other body under that query is a forgery.
    """
    digests = dict(recorded)
    refused: set[int] = set()
    rows: list[tuple[int, str, str, int]] = []
    for index, item in enumerate(items):
        if item.signed_key is None or item.body_digest is None:
            continue
        key = (item.account_id, item.signed_key)
        known = digests.get(key)
        if known is None:
            digests[key] = item.body_digest
            rows.append((item.account_id, item.signed_key, item.body_digest, now))
        elif not hmac.compare_digest(known, item.body_digest):
            refused.add(index)
    return refused, rows


def _session_infos(
    conn: Connection, items: Sequence[IncomingPush]
) -> dict[tuple[int, str], SceneInfo]:
    """scan-sessions: a session's scene resolves to no scenes row and no channel, with
    the session's reply (docs/scan-sessions.md)."""
    return {
        key: SceneInfo(
            scene_ref=None, channel_id=None, scene_reply=reply, channel_reply=None, follower_tags=()
        )
        for key, reply in session_replies(conn, items).items()
    }


def _event_row(
    item: IncomingPush, info: SceneInfo | None, channel_id: int | None
) -> tuple[Any, ...]:
    """The EVENT_COLUMNS of :mod:`._sql`, in order."""
    return (
        item.account_id,
        item.dedup_key,
        item.kind,
        item.openid,
        item.msg_type,
        item.event,
        item.event_key,
        item.scene,
        item.ticket,
        info.scene_ref if info else None,
        channel_id,
        item.is_scan and info is None,
        item.create_time,
        item.received_at,
        item.raw_xml,
    )
