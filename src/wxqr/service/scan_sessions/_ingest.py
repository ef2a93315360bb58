"""Scan sessions on the push hot path: called inside the group commit's transaction.

:func:`session_replies` tells the recorder which scanned scenes are sessions (so their
scans are no orphans, belong to no channel, and are answered with the session's reply);
:func:`apply_session_scans` completes the sessions the batch's new scans name, under the
accounts' ingest lock the recorder holds, and returns the outbound webhooks' outbox rows
for the same transaction. The rules (docs/scan-sessions.md):

* a ``once`` session completes at its first scan; later scans change nothing;
* a ``once=false`` session completes at its first scan and reports every later one;
* a scan whose ``CreateTime`` is after ``expires_at`` never counts, however late WeChat
  delivers it; a cancelled or expired session never completes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, tuple_, update

from wxqr.protocol import Reply
from wxqr.service.replies import InvalidReply, parse_reply_spec
from wxqr.service.session_scenes import is_session_scene
from wxqr.store import tables as t

from ._model import SessionStatus
from ._outbox import COMPLETED, SCANNED, outbox_row

__all__ = ["SessionScan", "apply_session_scans", "session_replies"]


class SessionScan(Protocol):
    """What this module needs of a push (``IncomingPush`` has it)."""

    @property
    def account_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def openid(self) -> str: ...
    @property
    def scene(self) -> str | None: ...
    @property
    def create_time(self) -> int: ...
    @property
    def received_at(self) -> int: ...
    @property
    def dedup_key(self) -> str: ...


def _is_session_scan(item: SessionScan) -> bool:
    return item.kind in ("subscribe_scan", "scan") and is_session_scene(item.scene)


def session_replies(
    conn: Connection, items: Iterable[SessionScan]
) -> dict[tuple[int, str], Reply | None]:
    """The session scenes among the scans of ``items``, with each session's reply."""
    keys = {(i.account_id, i.scene) for i in items if _is_session_scan(i) and i.scene}
    if not keys:
        return {}
    s = t.scan_sessions
    rows = conn.execute(
        select(s.c.account_id, s.c.scene, s.c.reply).where(
            tuple_(s.c.account_id, s.c.scene).in_(sorted(keys))
        )
    ).all()
    return {(row[0], row[1]): _reply(row[2]) for row in rows}


def _reply(value: Any) -> Reply | None:
    if value is None:
        return None
    try:
        return parse_reply_spec(value)
    except InvalidReply:
        return None


def apply_session_scans(
    conn: Connection, new_items: Sequence[SessionScan]
) -> list[tuple[Any, ...]]:
    """Complete (or count a scan of) the sessions the new scans of ``new_items`` name, in
    order; return the outbox rows (``OUTBOX_COLUMNS``) of their webhook events."""
    scans = [item for item in new_items if _is_session_scan(item)]
    if not scans:
        return []
    s = t.scan_sessions
    keys = sorted({(item.account_id, item.scene) for item in scans if item.scene})
    rows = {
        (row["account_id"], row["scene"]): dict(row)
        for row in conn.execute(
            select(s).where(tuple_(s.c.account_id, s.c.scene).in_(keys))
        ).mappings()
    }
    outbox: list[tuple[Any, ...]] = []
    now = int(time.time())
    for item in scans:
        row = rows.get((item.account_id, item.scene or ""))
        if row is None or item.create_time > row["expires_at"]:
            continue
        status = row["status"]
        first = status == SessionStatus.PENDING
        repeat = status == SessionStatus.SCANNED and not row["once"]
        if not (first or repeat):
            continue
        values: dict[str, Any] = {"scans": row["scans"] + 1, "updated_at": now}
        if first:
            values.update(
                status=SessionStatus.SCANNED.value,
                openid=item.openid,
                followed_now=item.kind == "subscribe_scan",
                scanned_at=item.create_time,
            )
        changed = conn.execute(
            update(s).where(s.c.id == row["id"], s.c.status == status).values(**values)
        ).rowcount
        if not changed:  # cancelled or expired meanwhile
            continue
        row.update(values)
        if first:
            outbox.append(outbox_row(COMPLETED, row, item.openid, item.received_at))
            if row["purpose"] == "bind" and row["ref"]:
                _bind(conn, row, item.openid, now)
        if not row["once"]:
            outbox.append(
                outbox_row(SCANNED, row, item.openid, item.received_at, scan=row["scans"])
            )
    return outbox


def _bind(conn: Connection, row: dict[str, Any], openid: str, now: int) -> None:
    b = t.bindings
    exists = conn.execute(
        select(b.c.id).where(
            b.c.account_id == row["account_id"], b.c.ref == row["ref"], b.c.openid == openid
        )
    ).first()
    if exists is None:  # under the ingest lock: nobody else binds this account meanwhile
        conn.execute(
            insert(b).values(
                account_id=row["account_id"],
                ref=row["ref"],
                openid=openid,
                session_id=row["id"],
                created_at=now,
            )
        )
