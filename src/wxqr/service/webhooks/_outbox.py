"""The outbox: one row per recorded event, written in the events' own transaction.

 The group commit (``wxqr.service.ingest``, ``_sql.write``) inserts them inside its
transaction, so an event answered ``success`` to WeChat always has its outbox row on
disk — a crash loses both or neither. The INSERT itself keeps the rows only while some
endpoint is enabled (``WHERE EXISTS``), in the same pipeline as the events on
PostgreSQL: no extra round trip, and nothing waits for a subscriber.

:func:`fan_out` (the delivery worker) turns outbox rows into deliveries — one per
enabled endpoint and subscribed type — and deletes them, in one transaction and in
outbox order, so one openid's deliveries keep the order of its events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, delete, select

from wxqr.store import tables as t

from ._types import DeliveryStatus, event_types_of_kind

__all__ = [
    "OUTBOX_COLUMNS",
    "RecordedEvent",
    "delivery_rows",
    "fan_out",
    "insert_deliveries",
]

OUTBOX_COLUMNS = ("account_id", "dedup_key", "kind", "openid", "received_ms")
DELIVERY_COLUMNS = (
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
for _table, _names in (
    (t.webhook_outbox, OUTBOX_COLUMNS),
    (t.webhook_deliveries, DELIVERY_COLUMNS),
):
    for _name in _names:
        assert _name in _table.c, f"{_table.name}.{_name} is missing"

# The advisory lock class of fan-out (PostgreSQL), "wxqw" in ASCII: one fan-out at a time,
# so deliveries are numbered in outbox order whatever the number of workers.
_PG_FANOUT_LOCK = 0x77787177


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


Subscription = tuple[int, int | None, frozenset[str]]


def _subscriptions(conn: Connection) -> list[Subscription]:
    e = t.webhook_endpoints
    rows = conn.execute(
        select(e.c.id, e.c.account_id, e.c.event_types).where(e.c.enabled.is_(True))
    ).all()
    return [(row[0], row[1], frozenset(row[2] or ())) for row in rows]


def _any_subscriber(conn: Connection) -> bool:
    e = t.webhook_endpoints
    return conn.execute(select(e.c.id).where(e.c.enabled.is_(True)).limit(1)).first() is not None


def delivery_rows(
    endpoints: Sequence[Subscription],
    account_id: int,
    kind: str,
    dedup_key: str,
    event_id: int | None,
    openid: str,
    at_ms: int,
) -> list[tuple[Any, ...]]:
    """The pending delivery rows (``DELIVERY_COLUMNS``) of one event."""
    pending = DeliveryStatus.PENDING.value
    return [
        (endpoint_id, account_id, event_type, dedup_key, event_id, openid, pending, 0, at_ms, at_ms)
        for event_type in event_types_of_kind(kind)
        for endpoint_id, endpoint_account, types in endpoints
        if event_type in types and endpoint_account in (None, account_id)
    ]


def fan_out(engine: Engine, limit: int = 2000) -> int:
    """Turn up to ``limit`` outbox rows (oldest first) into deliveries; return how many
    outbox rows were taken."""
    o = t.webhook_outbox
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_FANOUT_LOCK})")
        rows = conn.execute(select(o).order_by(o.c.id).limit(limit)).all()
        if not rows:
            return 0
        endpoints = _subscriptions(conn)
        deliveries = [
            delivery
            for row in rows
            for delivery in delivery_rows(
                endpoints,
                row.account_id,
                row.kind,
                row.dedup_key,
                None,
                row.openid,
                row.received_ms,
            )
        ]
        insert_deliveries(conn, deliveries)
        # By id: a row of another account's batch committed meanwhile inside the range
        # was not read, and must stay for the next fan-out.
        conn.execute(delete(o).where(o.c.id.in_([row.id for row in rows])))
    return len(rows)


def insert_deliveries(conn: Connection, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk INSERT of ``DELIVERY_COLUMNS`` tuples."""
    _insert(conn, t.webhook_deliveries.name, DELIVERY_COLUMNS, [tuple(row) for row in rows])


def _insert(
    conn: Connection, table_name: str, columns: Sequence[str], batch: list[tuple[Any, ...]]
) -> None:
    """Driver SQL like the group commit's own rows (SQLite: one executemany; PostgreSQL:
    one statement with a column array each): no per-row parameter processing."""
    if not batch:
        return
    table = t.metadata.tables[table_name]
    names = ", ".join(columns)
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", batch)  # noqa: S608
        return
    casts = ", ".join(
        f"%s::{table.c[name].type.compile(dialect=conn.dialect)}[]" for name in columns
    )
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({casts})",  # noqa: S608
        tuple(list(column) for column in zip(*batch, strict=True)),
    )
