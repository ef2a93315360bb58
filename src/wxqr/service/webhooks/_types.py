"""What the webhook service hands out: endpoints, deliveries, the event-type catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "EVENT_TYPES",
    "PING",
    "SUBSCRIBABLE_EVENT_TYPES",
    "CreatedEndpoint",
    "Delivery",
    "DeliveryStats",
    "DeliveryStatus",
    "Endpoint",
    "event_types_of_kind",
]

PING = "ping"
# Every type a delivery can carry. The last four come with later issues (scan sessions,
# code renewal); endpoints may subscribe to them already.
EVENT_TYPES = (
    "scan",
    "follow",
    "unfollow",
    PING,
    "scan_session.completed",
    "scan_session.expired",
    "scan_session.scanned",  # scan-sessions: every scan of a once=false session
    "code.expiring",
    "code.renewed",
)
# Ping is sent on request (``/test``) to one endpoint, never subscribed to.
SUBSCRIBABLE_EVENT_TYPES = tuple(kind for kind in EVENT_TYPES if kind != PING)

_TYPES_OF_KIND: dict[str, tuple[str, ...]] = {
    "subscribe_scan": ("scan", "follow"),
    "scan": ("scan",),
    "subscribe": ("follow",),
    "unsubscribe": ("unfollow",),
    # scan-sessions: the outbox kinds of wxqr.service.scan_sessions._outbox
    "ss.completed": ("scan_session.completed",),
    "ss.scanned": ("scan_session.scanned",),
    "ss.expired": ("scan_session.expired",),
    # lifecycle: the outbox kinds of wxqr.service.code_events
    "cd.expiring": ("code.expiring",),
    "cd.renewed": ("code.renewed",),
}


def event_types_of_kind(kind: str) -> tuple[str, ...]:
    """The webhook event types an ``events.kind`` produces (a follow by scan is both)."""
    return _TYPES_OF_KIND.get(kind, ())


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A business system's URL and what it subscribes to (never its secret)."""

    id: int
    url: str
    event_types: tuple[str, ...]
    account: str | None  # appid; None = every account
    account_id: int | None
    enabled: bool
    description: str
    # Why wxqr disabled it (410 Gone, failing for a day); None otherwise.
    disabled_reason: str | None
    failing_since: int | None  # Unix s of the first failure since the last success
    rotating_until: int | None  # Unix s until which the previous secret signs too
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """An endpoint just made (or whose secret was just rotated) with its secret, shown once."""

    endpoint: Endpoint
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one endpoint and how its delivery is going."""

    id: int
    endpoint_id: int
    event_type: str
    event_id: int | None
    message_id: str | None  # fixed at the first attempt (the webhook-id header)
    openid: str | None
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_ms: int | None  # None once delivered or failed
    created_ms: int  # when the event was received
    delivered_ms: int | None

    @property
    def lag_ms(self) -> int | None:
        """From the event's receipt by wxqr to the endpoint's 2xx (None until delivered)."""
        return None if self.delivered_ms is None else self.delivered_ms - self.created_ms


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """An endpoint's outbox at a glance: counts, the oldest pending one, recent lag."""

    pending: int
    delivered: int
    failed: int
    oldest_pending_ms: int | None  # age of the oldest pending delivery
    lag_p50_ms: int | None  # over the most recent deliveries
    lag_p99_ms: int | None
