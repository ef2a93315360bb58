"""One group-commit batch: many pushes recorded in one transaction, each exactly once.

The writer holds the ingest lock of the batch's accounts (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: an advisory transaction lock per account), so which pushes are new is known
exactly from one SELECT of their dedup keys, even with several wxqr processes on one
database. Only new pushes change followers and enqueue jobs; unfollows are attributed
from the follower row as it stands when they are recorded (first-touch channel). The
unique (account_id, dedup_key) constraint, with ``ON CONFLICT DO NOTHING``, stays the
last line of defence.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from wxqr.service.webhooks import enqueue_deliveries  # webhooks:
from wxqr.store import tables as t

from ._catalog import SceneCatalog
from ._followers import FollowerState, apply_event, follower_changes, state_from_row
from ._jobs import JobPolicy, jobs_for
from ._model import IncomingPush, Recorded, SceneInfo
from ._sql import prefetch, write

__all__ = ["record_batch"]

_FOLLOWER_KINDS = frozenset({"subscribe_scan", "subscribe", "scan", "unsubscribe"})


def _event_row(
    item: IncomingPush, info: SceneInfo | None, channel_id: int | None
) -> tuple[Any, ...]:
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


def record_batch(
    conn: Connection,
    items: Sequence[IncomingPush],
    catalog: SceneCatalog,
    policy: JobPolicy,
) -> list[Recorded]:
    """Record ``items`` inside the caller's transaction; one result per item, in order."""
    scene_keys = {(i.account_id, i.scene) for i in items if i.is_scan and i.scene is not None}
    scenes = catalog.resolve(conn, scene_keys) if scene_keys else {}

    def info_of(item: IncomingPush) -> SceneInfo | None:
        if not item.is_scan or item.scene is None:
            return None
        return scenes.get((item.account_id, item.scene))

    unique: dict[tuple[int, str], IncomingPush] = {}
    for item in items:
        unique.setdefault((item.account_id, item.dedup_key), item)
    follower_keys = [
        (item.account_id, item.openid) for item in unique.values() if item.kind in _FOLLOWER_KINDS
    ]
    stored, follower_rows = prefetch(conn, list(unique), follower_keys)
    new_keys = set(unique) - stored
    new_items = [item for key, item in unique.items() if key in new_keys]

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
    now = int(time.time())
    inserts, updates = follower_changes(before, after, now=now)
    write(conn, rows, inserts, updates)
    enqueue_deliveries(conn, new_items)  # webhooks: the outbox, in the events' transaction
    jobs = [
        {
            "account_id": item.account_id,
            "kind": kind,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "run_after": now,
            "created_at": now,
            "updated_at": now,
        }
        for item in new_items
        for kind, payload in jobs_for(item, info_of(item), policy)
    ]
    if jobs:
        conn.execute(t.jobs.insert(), jobs)

    results: list[Recorded] = []
    first_seen: set[tuple[int, str]] = set()
    for item in items:
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
