"""The outbound webhooks of scan sessions: outbox rows and message bodies.

A session's events go through the webhooks' outbox (docs/webhooks.md) in the transaction
that changed the session. The outbox ``kind`` is a short code of its own (``ss.*``,
mapped to the ``scan_session.*`` event types by ``event_types_of_kind``) and the
``dedup_key`` names the session and the scan: ``ss<id>.<n>`` (n = the scan's number; 0
for expiry), so a replayed delivery carries the same message id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from wxqr.store import tables as t

__all__ = [
    "COMPLETED",
    "EXPIRED",
    "KIND_EVENT_TYPES",
    "SCANNED",
    "outbox_row",
    "session_message_body",
    "session_ref",
]

COMPLETED = "ss.completed"
SCANNED = "ss.scanned"
EXPIRED = "ss.expired"

KIND_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    COMPLETED: ("scan_session.completed",),
    SCANNED: ("scan_session.scanned",),
    EXPIRED: ("scan_session.expired",),
}


def outbox_row(
    kind: str, row: Mapping[str, Any], openid: str, at_ms: int, *, scan: int | None = None
) -> tuple[Any, ...]:
    """An outbox row (account_id, dedup_key, kind, openid, received_ms)."""
    number = row["scans"] if scan is None and kind != EXPIRED else (scan or 0)
    return (row["account_id"], f"ss{row['id']}.{number}", kind, openid, at_ms)


def session_ref(dedup_key: str) -> tuple[int, int] | None:
    """(session id, scan number) of a session event's dedup key, else None."""
    if not dedup_key.startswith("ss"):
        return None
    head, _, tail = dedup_key[2:].partition(".")
    if not head.isdigit() or not tail.isdigit():
        return None
    return int(head), int(tail)


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def session_message_body(
    conn: Connection, event_type: str, dedup_key: str, openid: str | None, at_ms: int
) -> tuple[str, dict[str, Any]] | None:
    """(appid, data) of a ``scan_session.*`` delivery, None when the session is gone."""
    ref = session_ref(dedup_key)
    if ref is None:
        return None
    s, a = t.scan_sessions, t.accounts
    row = (
        conn.execute(select(s, a.c.appid).join(a, a.c.id == s.c.account_id).where(s.c.id == ref[0]))
        .mappings()
        .first()
    )
    if row is None:
        return None
    data: dict[str, Any] = {
        "session_id": row["id"],
        "purpose": row["purpose"],
        "ref": row["ref"],
        "payload": row["payload"],
        "expires_at": _iso(row["expires_at"]),
    }
    if event_type != "scan_session.expired":
        data.update(
            openid=openid or row["openid"],
            unionid=row["unionid"],
            followed_now=row["followed_now"],
            scanned_at=_iso(row["scanned_at"]),
            scan=ref[1],
        )
    return str(row["appid"]), data


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
