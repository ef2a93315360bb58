"""Outbound webhooks: every recorded event delivered, signed, to the business's endpoints.

The group commit writes outbox rows (ingest's ``_sql.write``) in the same transaction
as the events, so nothing answered ``success`` to WeChat is lost to a subscriber; the
:class:`WebhookDispatcher` (part of ``wxqr serve``'s worker, in its own low-priority
process: :class:`DeliveryProcess`) sends them with the Standard
Webhooks signature, retries for about a day and keeps one openid's events in order.
:class:`WebhookService` manages endpoints and deliveries. See docs/webhooks.md.
"""

from __future__ import annotations

from ._addresses import AddressPolicy, BlockedAddress, Resolver, blocked_reason, check_url
from ._claims import DISABLE_AFTER_SECONDS, RETRY_SCHEDULE_SECONDS
from ._dispatcher import DispatcherOptions, WebhookDispatcher
from ._outbox import fan_out
from ._process import DeliveryProcess, DeliveryProcessConfig, DeliveryWorker, delivery_worker
from ._sender import MAX_RESPONSE_BYTES, TIMEOUT_SECONDS
from ._service import ROTATION_OVERLAP_SECONDS, WebhookService
from ._signing import new_secret, sign, signed_headers
from ._types import (
    EVENT_TYPES,
    PING,
    SUBSCRIBABLE_EVENT_TYPES,
    CreatedEndpoint,
    Delivery,
    DeliveryStats,
    DeliveryStatus,
    Endpoint,
)

__all__ = [
    "DISABLE_AFTER_SECONDS",
    "EVENT_TYPES",
    "MAX_RESPONSE_BYTES",
    "PING",
    "RETRY_SCHEDULE_SECONDS",
    "ROTATION_OVERLAP_SECONDS",
    "SUBSCRIBABLE_EVENT_TYPES",
    "TIMEOUT_SECONDS",
    "AddressPolicy",
    "BlockedAddress",
    "CreatedEndpoint",
    "Delivery",
    "DeliveryProcess",
    "DeliveryProcessConfig",
    "DeliveryStats",
    "DeliveryStatus",
    "DeliveryWorker",
    "DispatcherOptions",
    "Endpoint",
    "Resolver",
    "WebhookDispatcher",
    "WebhookService",
    "blocked_reason",
    "check_url",
    "delivery_worker",
    "fan_out",
    "new_secret",
    "sign",
    "signed_headers",
]
