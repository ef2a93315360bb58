"""``/api/v1/webhooks``: outbound webhook endpoints, their deliveries, retries and replays.

The signing secret is in the answer of ``POST /webhooks`` and ``/rotate-secret`` only.
See docs/webhooks.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from wxqr.service.errors import InvalidInputError
from wxqr.service.webhooks import (
    CreatedEndpoint,
    Delivery,
    DeliveryStats,
    DeliveryStatus,
    Endpoint,
    WebhookService,
)
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import WS
from wxqr.web.api._params import INT32_MAX, INT64_MAX
from wxqr.web.api._problems import ProblemRoute
from wxqr.web.api._schemas import iso

__all__ = ["parse_time", "router"]

WebhookIdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The endpoint's id.")]
DeliveryIdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The delivery's id.")]

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=ProblemRoute)


def _iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def parse_time(raw: str, field: str) -> int:
    """Unix seconds, or an ISO 8601 time (UTC unless it says otherwise), as Unix seconds."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 12:  # up to year 33658
        return int(text)
    try:
        if len(text) > 64:
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{field} must be Unix seconds or an ISO 8601 time, got {raw!r}", field=field
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


class WebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048, description="https URL of the receiver.")
    events: list[str] = Field(min_length=1, max_length=20, description="Event types.")
    account: str | None = Field(
        default=None, description="Only this account's events (appid); all when left out."
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookPatchIn(BaseModel):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    enabled: bool | None = None
    description: str | None = Field(default=None, max_length=500)


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    account: str | None
    enabled: bool
    description: str
    disabled_reason: str | None
    failing_since: str | None
    rotating_until: str | None
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=list(endpoint.event_types),
            account=endpoint.account,
            enabled=endpoint.enabled,
            description=endpoint.description,
            disabled_reason=endpoint.disabled_reason,
            failing_since=iso(endpoint.failing_since),
            rotating_until=iso(endpoint.rotating_until),
            created_at=iso(endpoint.created_at),
            updated_at=iso(endpoint.updated_at),
        )


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…): shown only in this answer.")

    @classmethod
    def created(cls, made: CreatedEndpoint) -> WebhookSecretOut:
        return cls(**WebhookOut.of(made.endpoint).model_dump(), secret=made.secret)


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: int
    event_id: int | None
    type: str
    message_id: str | None
    openid: str | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    created_at: str | None
    delivered_at: str | None
    lag_ms: int | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            type=delivery.event_type,
            message_id=delivery.message_id,
            openid=delivery.openid,
            status=delivery.status.value,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=_iso_ms(delivery.next_attempt_ms),
            created_at=_iso_ms(delivery.created_ms),
            delivered_at=_iso_ms(delivery.delivered_ms),
            lag_ms=delivery.lag_ms,
        )


class StatsOut(BaseModel):
    pending: int
    delivered: int
    failed: int
    oldest_pending_ms: int | None
    lag_p50_ms: int | None
    lag_p99_ms: int | None

    @classmethod
    def of(cls, stats: DeliveryStats) -> StatsOut:
        return cls(
            pending=stats.pending,
            delivered=stats.delivered,
            failed=stats.failed,
            oldest_pending_ms=stats.oldest_pending_ms,
            lag_p50_ms=stats.lag_p50_ms,
            lag_p99_ms=stats.lag_p99_ms,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    stats: StatsOut
    next_before_id: int | None


class ReplayOut(BaseModel):
    queued: int
    since: str | None
    until: str | None


def _service(ws: Workspace) -> WebhookService:
    return ws.webhooks


@router.post("", response_model=WebhookSecretOut, status_code=201, summary="Add an endpoint")
def create_webhook(body: WebhookIn, response: Response, ws: WS) -> WebhookSecretOut:
    made = _service(ws).create(
        body.url, body.events, account=body.account, description=body.description
    )
    response.headers["Location"] = f"/api/v1/webhooks/{made.endpoint.id}"
    return WebhookSecretOut.created(made)


@router.get("", response_model=WebhookList, summary="List the endpoints")
def list_webhooks(ws: WS) -> WebhookList:
    return WebhookList(items=[WebhookOut.of(e) for e in _service(ws).list_endpoints()])


@router.get("/{webhook_id}", response_model=WebhookOut, summary="One endpoint")
def get_webhook(webhook_id: WebhookIdPath, ws: WS) -> WebhookOut:
    return WebhookOut.of(_service(ws).get(webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut, summary="Change an endpoint")
def update_webhook(webhook_id: WebhookIdPath, body: WebhookPatchIn, ws: WS) -> WebhookOut:
    return WebhookOut.of(
        _service(ws).update(
            webhook_id,
            url=body.url,
            event_types=body.events,
            enabled=body.enabled,
            description=body.description,
        )
    )


@router.delete("/{webhook_id}", status_code=204, summary="Remove an endpoint")
def delete_webhook(webhook_id: WebhookIdPath, ws: WS) -> Response:
    _service(ws).remove(webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookSecretOut,
    summary="A new signing secret (the old one signs too for 24 h)",
)
def rotate_secret(webhook_id: WebhookIdPath, ws: WS) -> WebhookSecretOut:
    return WebhookSecretOut.created(_service(ws).rotate_secret(webhook_id))


@router.post(
    "/{webhook_id}/test", response_model=DeliveryOut, status_code=202, summary="Send a ping"
)
def test_webhook(webhook_id: WebhookIdPath, ws: WS) -> DeliveryOut:
    return DeliveryOut.of(_service(ws).send_test(webhook_id))


@router.get(
    "/{webhook_id}/deliveries", response_model=DeliveryPage, summary="Deliveries, newest first"
)
def list_deliveries(
    webhook_id: WebhookIdPath,
    ws: WS,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[
        int | None, Query(ge=1, le=INT64_MAX, description="Continue below this id.")
    ] = None,
) -> DeliveryPage:
    service = _service(ws)
    found = service.deliveries(
        webhook_id,
        status=DeliveryStatus(status) if status else None,
        limit=limit,
        before_id=before_id,
    )
    return DeliveryPage(
        items=[DeliveryOut.of(d) for d in found],
        stats=StatsOut.of(service.stats(webhook_id)),
        next_before_id=found[-1].id if len(found) == limit else None,
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    summary="Send a delivery again now",
)
def retry_delivery(webhook_id: WebhookIdPath, delivery_id: DeliveryIdPath, ws: WS) -> DeliveryOut:
    return DeliveryOut.of(_service(ws).retry(webhook_id, delivery_id))


@router.post(
    "/{webhook_id}/replay",
    response_model=ReplayOut,
    status_code=202,
    summary="Send the events of a time range again",
)
def replay(
    webhook_id: WebhookIdPath,
    ws: WS,
    since: Annotated[str, Query(description="Unix seconds or ISO 8601 (event time).")],
    until: Annotated[str | None, Query(description="Unix seconds or ISO 8601; now.")] = None,
) -> ReplayOut:
    start = parse_time(since, "since")
    end = parse_time(until, "until") if until is not None else None
    queued = _service(ws).replay(webhook_id, start, end)
    return ReplayOut(queued=queued, since=iso(start), until=iso(end))
