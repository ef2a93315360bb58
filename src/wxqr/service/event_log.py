"""Reading the raw event log, a page at a time (keyset pagination on the event id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from wxqr.service.errors import InvalidInputError
from wxqr.store.tables import events

__all__ = ["EVENT_KINDS", "EventPage", "LoggedEvent", "read_events"]

EVENT_KINDS = ("subscribe_scan", "scan", "subscribe", "unsubscribe", "other_event", "message")
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    id: int
    account_id: int
    kind: str
    openid: str
    msg_type: str
    event: str
    event_key: str
    scene: str | None
    channel_id: int | None
    orphan: bool
    create_time: int
    received_at: int


@dataclass(frozen=True, slots=True)
class EventPage:
    events: tuple[LoggedEvent, ...]
    # Pass as ``after_id`` to read the next page; None when this page is the last.
    next_after_id: int | None


def read_events(
    engine: Engine,
    account_id: int,
    *,
    after_id: int = 0,
    limit: int = 100,
    kind: str | None = None,
    channel_id: int | None = None,
    openid: str | None = None,
    since: int | None = None,
    until: int | None = None,
    orphan: bool | None = None,
    scene: str | None = None,
) -> EventPage:
    """Events of the account in log order, after ``after_id``; times are Unix seconds."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"limit must be 1..{MAX_PAGE}", field="limit")
    if kind is not None and kind not in EVENT_KINDS:
        raise InvalidInputError(f"kind must be one of {', '.join(EVENT_KINDS)}", field="kind")
    columns = [c for c in events.c if c.name not in ("raw_xml", "dedup_key", "scene_ref", "ticket")]
    query = select(*columns).where(events.c.account_id == account_id, events.c.id > after_id)
    if kind is not None:
        query = query.where(events.c.kind == kind)
    if channel_id is not None:
        query = query.where(events.c.channel_id == channel_id)
    if openid is not None:
        query = query.where(events.c.openid == openid)
    if since is not None:
        query = query.where(events.c.create_time >= since)
    if until is not None:
        query = query.where(events.c.create_time < until)
    if orphan is not None:
        query = query.where(events.c.orphan.is_(orphan))
    if scene is not None:
        query = query.where(events.c.scene == scene)
    query = query.order_by(events.c.id).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    found = tuple(
        LoggedEvent(
            id=row["id"],
            account_id=row["account_id"],
            kind=row["kind"],
            openid=row["openid"],
            msg_type=row["msg_type"],
            event=row["event"],
            event_key=row["event_key"],
            scene=row["scene"],
            channel_id=row["channel_id"],
            orphan=bool(row["orphan"]),
            create_time=row["create_time"],
            received_at=row["received_at"],
        )
        for row in rows[:limit]
    )
    return EventPage(found, found[-1].id if len(rows) > limit else None)
