"""Writing the outbox: delivery rows in the same transaction as the events they report.

:func:`enqueue_deliveries` is called by the group commit (``wxqr.service.ingest``) inside
its transaction, so an event answered ``success`` to WeChat always has its delivery rows
on disk — a crash loses both or neither. It costs one small SELECT of the enabled
endpoints and one bulk INSERT per batch, and waits for no subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, select

from wxqr.store import tables as t

from ._types import DeliveryStatus, event_types_of_kind

__all__ = ["OUTBOX_COLUMNS", "RecordedEvent", "enqueue_deliveries", "insert_deliveries"]

OUTBOX_COLUMNS = (
    "endpoint_id",
    "account_id",
    "event_type",
    "dedup_key",
    "event_id",
    "openid",
    "status",
    "attempts",
    "next_attempt_ms",
    "created_ms",
)
for _name in OUTBOX_COLUMNS:
    assert _name in t.webhook_deliveries.c, f"webhook_deliveries.{_name} is missing"


class RecordedEvent(Protocol):
    """What the outbox needs of a newly recorded push (``IncomingPush`` has it)."""

    @property
    def account_id(self) -> int: ...
    @property
    def dedup_key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def openid(self) -> str: ...
    @property
    def received_at(self) -> int: ...  # Unix ms


def _subscriptions(conn: Connection) -> list[tuple[int, int | None, frozenset[str]]]:
    e = t.webhook_endpoints
    rows = conn.execute(
        select(e.c.id, e.c.account_id, e.c.event_types).where(e.c.enabled.is_(True))
    ).all()
    return [(row[0], row[1], frozenset(row[2] or ())) for row in rows]


def enqueue_deliveries(conn: Connection, events: Sequence[RecordedEvent]) -> int:
    """Add a pending delivery for every (new event, subscribed enabled endpoint) pair,
    in event order, inside the caller's transaction; return how many."""
    if not any(event_types_of_kind(item.kind) for item in events):
        return 0
    endpoints = _subscriptions(conn)
    if not endpoints:
        return 0
    rows: list[tuple[Any, ...]] = []
    pending = DeliveryStatus.PENDING.value
    for item in events:
        for event_type in event_types_of_kind(item.kind):
            for endpoint_id, account_id, types in endpoints:
                if event_type in types and account_id in (None, item.account_id):
                    rows.append(
                        (
                            endpoint_id,
                            item.account_id,
                            event_type,
                            item.dedup_key,
                            None,
                            item.openid,
                            pending,
                            0,
                            item.received_at,
                            item.received_at,
                        )
                    )
    insert_deliveries(conn, rows)
    return len(rows)


def insert_deliveries(conn: Connection, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk INSERT of ``OUTBOX_COLUMNS`` tuples as driver SQL (SQLite: one executemany;
    PostgreSQL: one statement with a column array each), like the group commit's own rows."""
    batch = [tuple(row) for row in rows]
    if not batch:
        return
    table = t.webhook_deliveries
    names = ", ".join(OUTBOX_COLUMNS)
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" * len(OUTBOX_COLUMNS))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", batch)  # noqa: S608
        return
    casts = ", ".join(
        f"%s::{table.c[name].type.compile(dialect=conn.dialect)}[]" for name in OUTBOX_COLUMNS
    )
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({casts})",  # noqa: S608
        tuple(list(column) for column in zip(*batch, strict=True)),
    )
