"""The bodies wxqr sends: ``{"type", "id", "timestamp", "account", "data"}``.

A delivery's message id and body are built from the event log at its first attempt and
then kept on the delivery row, so every repeat carries the same ``webhook-id`` and the
same bytes. The id is ``msg_<event id>_<type>``: the same event re-sent (a retry, a
replay) is recognisably the same message. JSON Schemas of every type: docs/webhooks.md.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from wxqr.store import tables as t

from ._types import PING

__all__ = ["EventRef", "Message", "build_messages", "iso_ms", "ping_message"]


@dataclass(frozen=True, slots=True)
class EventRef:
    """Which event a delivery reports: by id, or by (account, dedup key) from the hot path."""

    event_id: int | None
    account_id: int | None
    dedup_key: str | None
    openid: str | None = None  # scan-sessions: the delivery's openid


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    body: str
    event_id: int | None


def iso_ms(ms: int) -> str:
    """Unix ms as ISO 8601 UTC with milliseconds."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dump(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def ping_message(endpoint_id: int, appid: str | None, now_ms: int) -> Message:
    """The body of a test delivery (``POST /api/v1/webhooks/{id}/test``)."""
    message_id = f"msg_ping_{secrets.token_hex(8)}"
    body = {
        "type": PING,
        "id": message_id,
        "timestamp": iso_ms(now_ms),
        "account": appid,
        "data": {"endpoint_id": endpoint_id, "message": "wxqr test delivery"},
    }
    return Message(message_id, _dump(body), None)


def _channel(row: Mapping[str, Any]) -> dict[str, Any] | None:
    if row["channel_id"] is None:
        return None
    return {"id": row["channel_id"], "name": row["channel_name"]}


def _data(event_type: str, row: Mapping[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": row["id"],
        "openid": row["openid"],
        "created_at": datetime.fromtimestamp(row["create_time"], UTC)
        .isoformat()
        .replace("+00:00", "Z"),
    }
    if event_type == "scan":
        code = None
        if row["scene_ref"] is not None:
            code = {"id": row["scene_ref"], "scene": row["scene"], "kind": row["qr_kind"]}
        return {
            **base,
            "scene": row["scene"],
            "orphan": bool(row["orphan"]),
            "new_follow": row["kind"] == "subscribe_scan",
            "code": code,
            "channel": _channel(row),
            "group": row["group_name"],
            "payload": row["channel_payload"],
        }
    if event_type == "follow":
        return {
            **base,
            "scene": row["scene"],
            "channel": _channel(row),
            "group": row["group_name"],
        }
    # unfollow: the channel the follower is attributed to (first touch)
    return {**base, "channel": _channel(row), "group": row["group_name"]}


def build_messages(
    conn: Connection, wanted: Sequence[tuple[str, EventRef]]
) -> list[Message | None]:
    """One message per (event type, event) in ``wanted``; None where the event is gone."""
    e, c, s, a = t.events, t.channels, t.scenes, t.accounts
    ids = {ref.event_id for _, ref in wanted if ref.event_id is not None}
    keys = {
        (ref.account_id, ref.dedup_key)
        for _, ref in wanted
        if ref.event_id is None and ref.account_id is not None and ref.dedup_key is not None
    }
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(e.c.id.in_(sorted(ids)))
    by_account: dict[int, list[str]] = {}
    for account_id, key in keys:
        by_account.setdefault(account_id, []).append(key)
    for account_id, dedup_keys in by_account.items():
        conditions.append(and_(e.c.account_id == account_id, e.c.dedup_key.in_(dedup_keys)))
    rows: list[Mapping[str, Any]] = []
    if conditions:
        query = (
            select(
                e.c.id,
                e.c.account_id,
                e.c.dedup_key,
                e.c.kind,
                e.c.openid,
                e.c.scene,
                e.c.scene_ref,
                e.c.channel_id,
                e.c.orphan,
                e.c.create_time,
                e.c.received_at,
                a.c.appid,
                c.c.name.label("channel_name"),
                c.c.group_name,
                c.c.payload.label("channel_payload"),
                s.c.qr_kind,
            )
            .join(a, a.c.id == e.c.account_id)
            .outerjoin(c, c.c.id == e.c.channel_id)
            .outerjoin(s, s.c.id == e.c.scene_ref)
            .where(or_(*conditions))
        )
        rows = [dict(row) for row in conn.execute(query).mappings()]
    by_id = {row["id"]: row for row in rows}
    by_key = {(row["account_id"], row["dedup_key"]): row for row in rows}
    found: list[Message | None] = []
    for event_type, ref in wanted:
        if event_type.startswith("scan_session."):  # scan-sessions: bodies of their own
            found.append(_session_message(conn, event_type, ref))
            continue
        if event_type.startswith("code."):  # lifecycle: bodies of their own
            found.append(_code_message(conn, event_type, ref))
            continue
        row = (
            by_id.get(ref.event_id)
            if ref.event_id is not None
            else by_key.get((ref.account_id, ref.dedup_key))
        )
        if row is None:
            found.append(None)
            continue
        message_id = f"msg_{row['id']}_{event_type}"
        body = {
            "type": event_type,
            "id": message_id,
            "timestamp": iso_ms(row["received_at"]),
            "account": row["appid"],
            "data": _data(event_type, row),
        }
        found.append(Message(message_id, _dump(body), row["id"]))
    return found


def _session_message(conn: Connection, event_type: str, ref: EventRef) -> Message | None:
    """scan-sessions: a ``scan_session.*`` body from the session's row (dedup key
    ``ss<id>.<n>``; see wxqr.service.scan_sessions._outbox)."""
    from wxqr.service.scan_sessions._outbox import session_message_body

    if ref.dedup_key is None:
        return None
    found = session_message_body(conn, event_type, ref.dedup_key, ref.openid or None, 0)
    if found is None:
        return None
    appid, data = found
    message_id = f"msg_{ref.dedup_key}_{event_type}"
    body = {
        "type": event_type,
        "id": message_id,
        "timestamp": iso_ms(int(time.time() * 1000)),
        "account": appid,
        "data": data,
    }
    return Message(message_id, _dump(body), None)


def _code_message(conn: Connection, event_type: str, ref: EventRef) -> Message | None:
    """lifecycle: a ``code.expiring`` / ``code.renewed`` body from the code rows (dedup
    key ``cx<id>`` / ``cr<old>.<new>``; see wxqr.service.code_events)."""
    from wxqr.service.code_events import code_message_body

    if ref.dedup_key is None:
        return None
    found = code_message_body(conn, event_type, ref.dedup_key)
    if found is None:
        return None
    appid, at, data = found
    message_id = f"msg_{ref.dedup_key}_{event_type}"
    body = {
        "type": event_type,
        "id": message_id,
        "timestamp": iso_ms(at * 1000),
        "account": appid,
        "data": data,
    }
    return Message(message_id, _dump(body), None)
