"""How much work waits, read from the store at each metrics scrape.

The background jobs by status and the wait of the oldest due one; the outbound webhook
deliveries by status, the age of the oldest pending one, and the outbox rows not yet
fanned out. Counted here so the metrics endpoint (an adapter) never reads tables itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from wxqr.store import tables as t

__all__ = ["QueueDepths", "queue_depths"]


@dataclass(frozen=True)
class QueueDepths:
    jobs_by_status: dict[str, int]
    oldest_due_job_seconds: float  # 0 when no pending job is due
    deliveries_by_status: dict[str, int]
    oldest_pending_delivery_seconds: float  # 0 when none is pending
    outbox_events: int


def queue_depths(engine: Engine, *, now: float | None = None) -> QueueDepths:
    """One read of the queues (two short aggregate queries per table)."""
    at = time.time() if now is None else now
    j, d = t.jobs, t.webhook_deliveries
    with engine.connect() as conn:
        jobs = {
            row[0]: int(row[1])
            for row in conn.execute(select(j.c.status, func.count()).group_by(j.c.status))
        }
        first_due = conn.execute(
            select(func.min(j.c.run_after)).where(j.c.status == "pending", j.c.run_after <= int(at))
        ).scalar()
        deliveries = {
            row[0]: int(row[1])
            for row in conn.execute(select(d.c.status, func.count()).group_by(d.c.status))
        }
        oldest_ms = conn.execute(
            select(func.min(d.c.created_ms)).where(d.c.status == "pending")
        ).scalar()
        outbox = conn.execute(select(func.count()).select_from(t.webhook_outbox)).scalar_one()
    return QueueDepths(
        jobs_by_status=jobs,
        oldest_due_job_seconds=max(0.0, at - first_due) if first_due is not None else 0.0,
        deliveries_by_status=deliveries,
        oldest_pending_delivery_seconds=max(0.0, at - oldest_ms / 1000) if oldest_ms else 0.0,
        outbox_events=int(outbox),
    )
