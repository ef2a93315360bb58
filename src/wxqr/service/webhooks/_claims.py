"""The delivery worker's two transactions: claim due deliveries, record how they went.

A claim takes due ``pending`` deliveries of enabled endpoints — skipping any whose
endpoint has an earlier pending delivery for the same openid, so one user's events arrive
in order — and leases them (``next_attempt_ms`` moves ``lease`` ahead, ``attempts`` + 1).
Several workers on one database take disjoint rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite). A worker that dies leaves its rows to be taken
again when the lease ends: at least once, with the same message id and body.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, bindparam, delete, exists, select, update
from sqlalchemy.orm import aliased

from wxqr.store import tables as t

from ._messages import EventRef, Message, build_messages, ping_message
from ._sender import Attempt
from ._types import PING, DeliveryStatus

__all__ = [
    "DISABLE_AFTER_SECONDS",
    "RETRY_SCHEDULE_SECONDS",
    "Claimed",
    "claim_due",
    "next_delay",
    "prune",
    "record_attempts",
]

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd … failed attempt; after the last one, ``failed``.
RETRY_SCHEDULE_SECONDS: tuple[float, ...] = (5, 30, 120, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
# An endpoint that has failed for this long without a success is disabled.
DISABLE_AFTER_SECONDS = 86400


def next_delay(attempts: int, schedule: Sequence[float] = RETRY_SCHEDULE_SECONDS) -> float | None:
    """Seconds before the next try after ``attempts`` failed ones (±10% jitter), or None
    when the schedule is over."""
    if attempts < 1 or attempts > len(schedule):
        return None
    return schedule[attempts - 1] * random.uniform(0.9, 1.1)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased delivery, ready to send."""

    id: int
    endpoint_id: int
    event_type: str
    attempts: int  # including this one
    url: str
    secrets: tuple[str, ...] = field(repr=False)
    message: Message | None  # None: its event is gone (recorded as failed)


def _secrets(row: object, now_s: int) -> tuple[str, ...]:
    current = str(row.secret)  # type: ignore[attr-defined]
    previous = row.previous_secret  # type: ignore[attr-defined]
    until = row.previous_secret_until  # type: ignore[attr-defined]
    if previous and until is not None and until > now_s:
        return (current, str(previous))
    return (current,)


def claim_due(engine: Engine, now_ms: int, limit: int, lease_ms: int) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries (longest due first) and fix their messages."""
    d, w = t.webhook_deliveries, t.webhook_endpoints
    earlier = aliased(d)
    blocked = exists().where(
        earlier.c.endpoint_id == d.c.endpoint_id,
        earlier.c.openid == d.c.openid,
        earlier.c.status == DeliveryStatus.PENDING.value,
        earlier.c.id < d.c.id,
    )
    query = (
        select(
            d.c.id,
            d.c.endpoint_id,
            d.c.account_id,
            d.c.event_type,
            d.c.dedup_key,
            d.c.event_id,
            d.c.openid,  # scan-sessions: the scanner of a scan_session.* delivery
            d.c.message_id,
            d.c.body,
            d.c.attempts,
            w.c.url,
            w.c.secret,
            w.c.previous_secret,
            w.c.previous_secret_until,
        )
        .join(w, w.c.id == d.c.endpoint_id)
        .where(
            d.c.status == DeliveryStatus.PENDING.value,
            d.c.next_attempt_ms <= now_ms,
            w.c.enabled.is_(True),
            ~blocked,
        )
        # Due order follows the (status, next_attempt_ms) index, so LIMIT stops early
        # however long the backlog; per-openid order comes from ``blocked``, not from here.
        .order_by(d.c.next_attempt_ms, d.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=d)
    )
    now_s = now_ms // 1000
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return []
        fresh = [row for row in rows if row.message_id is None and row.event_type != PING]
        built = build_messages(
            conn,
            [
                (
                    row.event_type,
                    # scan-sessions: the scanner of a scan_session.* delivery
                    EventRef(row.event_id, row.account_id, row.dedup_key, row.openid),
                )
                for row in fresh
            ],
        )
        messages: dict[int, Message | None] = {
            row.id: message for row, message in zip(fresh, built, strict=True)
        }
        for row in rows:
            if row.message_id is not None and row.body is not None:
                messages[row.id] = Message(row.message_id, row.body, row.event_id)
            elif row.event_type == PING and row.id not in messages:
                messages[row.id] = ping_message(row.endpoint_id, None, now_ms)
        leases = []
        for row in rows:
            message = messages.get(row.id)
            leases.append(
                {
                    "b_id": row.id,
                    "b_next": now_ms + lease_ms,
                    "b_attempts": row.attempts + 1,
                    "b_message_id": message.id if message else None,
                    "b_body": message.body if message else None,
                    "b_event_id": message.event_id if message else row.event_id,
                }
            )
        conn.execute(
            update(d)
            .where(d.c.id == bindparam("b_id"))
            .values(
                next_attempt_ms=bindparam("b_next"),
                attempts=bindparam("b_attempts"),
                message_id=bindparam("b_message_id"),
                body=bindparam("b_body"),
                event_id=bindparam("b_event_id"),
            ),
            leases,
        )
    return [
        Claimed(
            id=row.id,
            endpoint_id=row.endpoint_id,
            event_type=row.event_type,
            attempts=row.attempts + 1,
            url=row.url,
            secrets=_secrets(row, now_s),
            message=messages.get(row.id),
        )
        for row in rows
    ]


def record_attempts(
    engine: Engine,
    outcomes: Sequence[tuple[Claimed, Attempt]],
    now_ms: int,
    schedule: Sequence[float] = RETRY_SCHEDULE_SECONDS,
) -> None:
    """Store each attempt's result; retry, fail, and disable endpoints as the rules say."""
    if not outcomes:
        return
    d, w = t.webhook_deliveries, t.webhook_endpoints
    now_s = now_ms // 1000
    changes = []
    succeeded: set[int] = set()
    failed_endpoints: set[int] = set()
    gone: set[int] = set()
    for claimed, attempt in outcomes:
        values = {
            "b_id": claimed.id,
            "b_code": attempt.status_code,
            "b_error": attempt.error,
            "b_delivered": None,
        }
        if attempt.ok:
            succeeded.add(claimed.endpoint_id)
            values.update(
                b_status=DeliveryStatus.DELIVERED.value, b_next=now_ms, b_delivered=now_ms
            )
        else:
            failed_endpoints.add(claimed.endpoint_id)
            if attempt.gone:
                gone.add(claimed.endpoint_id)
            final = claimed.event_type == PING or claimed.message is None
            delay = None if final else next_delay(claimed.attempts, schedule)
            if delay is None:
                values.update(b_status=DeliveryStatus.FAILED.value, b_next=now_ms)
            else:
                values.update(
                    b_status=DeliveryStatus.PENDING.value, b_next=now_ms + int(delay * 1000)
                )
        changes.append(values)
    with engine.begin() as conn:
        conn.execute(
            update(d)
            .where(d.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                next_attempt_ms=bindparam("b_next"),
                last_status_code=bindparam("b_code"),
                last_error=bindparam("b_error"),
                delivered_ms=bindparam("b_delivered"),
            ),
            changes,
        )
        if succeeded:
            conn.execute(
                update(w)
                .where(w.c.id.in_(sorted(succeeded)), w.c.failing_since.is_not(None))
                .values(failing_since=None, updated_at=now_s)
            )
        failing = sorted(failed_endpoints - succeeded)
        if failing:
            conn.execute(
                update(w)
                .where(w.c.id.in_(failing), w.c.failing_since.is_(None))
                .values(failing_since=now_s, updated_at=now_s)
            )
            result = conn.execute(
                update(w)
                .where(
                    w.c.id.in_(failing),
                    w.c.enabled.is_(True),
                    w.c.failing_since <= now_s - DISABLE_AFTER_SECONDS,
                )
                .values(
                    enabled=False,
                    disabled_reason="failing for a day without a success",
                    updated_at=now_s,
                )
            )
            if result.rowcount:
                log.warning("disabled %d webhook endpoint(s) failing for a day", result.rowcount)
        if gone:
            conn.execute(
                update(w)
                .where(w.c.id.in_(sorted(gone)), w.c.enabled.is_(True))
                .values(
                    enabled=False,
                    disabled_reason="the receiver answered 410 Gone",
                    updated_at=now_s,
                )
            )
            log.warning("disabled webhook endpoint(s) %s: 410 Gone", sorted(gone))


def prune(engine: Engine, now_ms: int, retention_ms: int) -> int:
    """Delete delivered rows older than the retention, and rows of removed endpoints."""
    d, w = t.webhook_deliveries, t.webhook_endpoints
    with engine.begin() as conn:
        old = conn.execute(
            delete(d).where(
                and_(
                    d.c.status == DeliveryStatus.DELIVERED.value,
                    d.c.delivered_ms < now_ms - retention_ms,
                )
            )
        ).rowcount
        orphaned = conn.execute(
            delete(d).where(~exists().where(w.c.id == d.c.endpoint_id))
        ).rowcount
    return int(old or 0) + int(orphaned or 0)
