"""The outbound webhooks of code lifecycle: ``code.expiring`` and ``code.renewed``.

They go through the webhooks' outbox (docs/webhooks.md) in the transaction that records
them in ``code_lifecycle``. The outbox ``kind`` is a short code of its own (``cd.*``,
mapped to the event types by ``event_types_of_kind``) and the ``dedup_key`` names the
code: ``cx<code id>`` (expiring) or ``cr<old id>.<new id>`` (renewed), so a replayed
delivery carries the same message id. Bodies are built from the rows at delivery time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from wxqr.store import tables as t

__all__ = [
    "EXPIRING",
    "KIND_EVENT_TYPES",
    "RENEWED",
    "code_message_body",
    "expiring_key",
    "record_outbox",
    "renewed_key",
]

EXPIRING = "cd.expiring"
RENEWED = "cd.renewed"

KIND_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    EXPIRING: ("code.expiring",),
    RENEWED: ("code.renewed",),
}


def expiring_key(code_id: int) -> str:
    return f"cx{code_id}"


def renewed_key(old_id: int, new_id: int) -> str:
    return f"cr{old_id}.{new_id}"


def record_outbox(conn: Connection, account_id: int, kind: str, dedup_key: str) -> None:
    """Queue one lifecycle event for the webhook endpoints (in the caller's transaction).
    Stamped with the wall clock: the delivery worker schedules attempts by it (the
    event's own time is in its body)."""
    conn.execute(
        insert(t.webhook_outbox).values(
            account_id=account_id,
            dedup_key=dedup_key,
            kind=kind,
            openid="",
            received_ms=int(time.time() * 1000),
        )
    )


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _code(row: Mapping[str, Any]) -> dict[str, Any]:
    scene = str(row["scene"])
    if scene.startswith("~"):  # a renewed code keeps its scene under ~<id>~<scene>
        scene = scene.split("~", 2)[-1]
    return {
        "id": row["id"],
        "scene": scene,
        "kind": row["qr_kind"],
        "url": row["url"],
        "expires_at": _iso(row["expires_at"]),
    }


def _ids(dedup_key: str) -> tuple[int, int | None] | None:
    if dedup_key.startswith("cx") and dedup_key[2:].isdigit():
        return int(dedup_key[2:]), None
    if dedup_key.startswith("cr"):
        old, _, new = dedup_key[2:].partition(".")
        if old.isdigit() and new.isdigit():
            return int(old), int(new)
    return None


def code_message_body(
    conn: Connection, event_type: str, dedup_key: str
) -> tuple[str, int, dict[str, Any]] | None:
    """(appid, Unix s of the event, data) of a ``code.*`` delivery; None when gone."""
    ids = _ids(dedup_key)
    if ids is None:
        return None
    s, c, a, life = t.scenes, t.channels, t.accounts, t.code_lifecycle
    wanted = [ids[0]] if ids[1] is None else [ids[0], ids[1]]
    rows: dict[int, Mapping[str, Any]] = {
        row["id"]: dict(row)
        for row in conn.execute(
            select(
                s,
                a.c.appid,
                c.c.name.label("channel_name"),
                c.c.group_name,
                life.c.renewed_at,
                life.c.expiring_sent_at,
            )
            .join(a, a.c.id == s.c.account_id)
            .outerjoin(c, c.c.id == s.c.channel_id)
            .outerjoin(life, life.c.scene_ref == s.c.id)
            .where(s.c.id.in_(wanted))
        ).mappings()
    }
    old = rows.get(ids[0])
    if old is None:
        return None
    channel = (
        None
        if old["channel_id"] is None
        else {"id": old["channel_id"], "name": old["channel_name"]}
    )
    data: dict[str, Any] = {"channel": channel, "group": old["group_name"], "code": _code(old)}
    if event_type == "code.renewed":
        new = rows.get(ids[1]) if ids[1] is not None else None
        if new is None:
            return None
        at = int(old["renewed_at"] or new["created_at"])
        data.update(new_code=_code(new), renewed_at=_iso(at))
    else:
        at = int(old["expiring_sent_at"] or old["created_at"])
        data.update(expires_at=_iso(old["expires_at"]), auto_renew=False)
    return str(old["appid"]), at, data
