"""Managing webhook endpoints and their deliveries: what the REST API, CLI and dashboard call.

Secrets are shown once (on creation and rotation) and never logged or put in a repr.
Deliveries are only ever added to the outbox here (test pings, retries, replays); the
delivery worker sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Row, delete, func, insert, select, update

from wxqr.service.accounts import get_account, get_account_by_id
from wxqr.service.errors import InvalidInputError, NotFoundError
from wxqr.store import tables as t

from ._addresses import AddressPolicy, check_url
from ._messages import ping_message
from ._outbox import insert_deliveries
from ._signing import new_secret
from ._types import (
    PING,
    SUBSCRIBABLE_EVENT_TYPES,
    CreatedEndpoint,
    Delivery,
    DeliveryStats,
    DeliveryStatus,
    Endpoint,
    event_types_of_kind,
)

if TYPE_CHECKING:
    from wxqr.settings import Settings

__all__ = ["ROTATION_OVERLAP_SECONDS", "UNSET", "WebhookService"]

# After a rotation the previous secret keeps signing for this long (receivers switch over).
ROTATION_OVERLAP_SECONDS = 24 * 3600
MAX_DESCRIPTION = 500
MAX_PAGE = 500
MAX_REPLAY = 100_000
UNSET: Any = object()
_LAG_SAMPLE = 1000


def _event_types(raw: Sequence[str]) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(str(kind).strip() for kind in raw))
    if not found:
        raise InvalidInputError("events must name at least one event type", field="events")
    unknown = [kind for kind in found if kind not in SUBSCRIBABLE_EVENT_TYPES]
    if unknown:
        raise InvalidInputError(
            f"unknown event type(s) {', '.join(map(repr, unknown))}; one of "
            f"{', '.join(SUBSCRIBABLE_EVENT_TYPES)}",
            field="events",
        )
    return found


def _description(raw: str | None) -> str:
    text = (raw or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInputError(
            f"description must be at most {MAX_DESCRIPTION} characters", field="description"
        )
    return text


def _delivery(row: Row[Any]) -> Delivery:
    status = DeliveryStatus(row.status)
    return Delivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_type=row.event_type,
        event_id=row.event_id,
        message_id=row.message_id,
        openid=row.openid,
        status=status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        next_attempt_ms=row.next_attempt_ms if status is DeliveryStatus.PENDING else None,
        created_ms=row.created_ms,
        delivered_ms=row.delivered_ms,
    )


def _percentile(sorted_values: Sequence[int], fraction: float) -> int | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


class WebhookService:
    """Endpoints (create, list, change, remove, rotate, test) and their deliveries."""

    def __init__(
        self,
        engine: Engine,
        policy: AddressPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.policy = policy or AddressPolicy()
        self._clock = clock

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> WebhookService:
        """The service with the install's address rules (``WXQR_WEBHOOK_ALLOW_*``)."""
        policy = AddressPolicy(settings.webhook_allow_http, settings.webhook_allow_private)
        return cls(engine, policy, clock=clock)

    # -- endpoints ---------------------------------------------------------------------

    def _endpoint(self, row: Row[Any], appids: dict[int, str]) -> Endpoint:
        now = int(self._clock())
        until = row.previous_secret_until
        return Endpoint(
            id=row.id,
            url=row.url,
            event_types=tuple(row.event_types or ()),
            account=appids.get(row.account_id) if row.account_id is not None else None,
            account_id=row.account_id,
            enabled=bool(row.enabled),
            description=row.description,
            disabled_reason=row.disabled_reason,
            failing_since=row.failing_since,
            rotating_until=until if until is not None and until > now else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _appids(self) -> dict[int, str]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.accounts.c.id, t.accounts.c.appid)).all()
        return {int(row[0]): str(row[1]) for row in rows}

    def _row(self, endpoint_id: int) -> Row[Any]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(t.webhook_endpoints).where(t.webhook_endpoints.c.id == endpoint_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no webhook endpoint {endpoint_id}", field="id")
        return row

    def create(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        account: str | None = None,
        description: str | None = None,
    ) -> CreatedEndpoint:
        """Register an endpoint; its secret is returned here and never again."""
        checked = check_url(url, self.policy)
        types = _event_types(event_types)
        account_id = None
        if account:
            found = get_account(self._engine, account)
            if found is None:
                raise NotFoundError(f"no account {account!r}", field="account")
            account_id = found.id
        secret = new_secret()
        now = int(self._clock())
        with self._engine.begin() as conn:
            endpoint_id = conn.execute(
                insert(t.webhook_endpoints)
                .values(
                    account_id=account_id,
                    url=checked,
                    description=_description(description),
                    event_types=list(types),
                    enabled=True,
                    secret=secret,
                    created_at=now,
                    updated_at=now,
                )
                .returning(t.webhook_endpoints.c.id)
            ).scalar_one()
        return CreatedEndpoint(self.get(endpoint_id), secret)

    def get(self, endpoint_id: int) -> Endpoint:
        return self._endpoint(self._row(endpoint_id), self._appids())

    def list_endpoints(self) -> list[Endpoint]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.webhook_endpoints).order_by(t.webhook_endpoints.c.id))
            found = rows.all()
        appids = self._appids()
        return [self._endpoint(row, appids) for row in found]

    def update(
        self,
        endpoint_id: int,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> Endpoint:
        """Change what is given; enabling clears the failure state and the reason."""
        self._row(endpoint_id)
        values: dict[str, Any] = {}
        if url is not None:
            values["url"] = check_url(url, self.policy)
        if event_types is not None:
            values["event_types"] = list(_event_types(event_types))
        if description is not None:
            values["description"] = _description(description)
        if enabled is not None:
            values["enabled"] = enabled
            values["disabled_reason"] = None
            if enabled:
                values["failing_since"] = None
        if values:
            values["updated_at"] = int(self._clock())
            with self._engine.begin() as conn:
                conn.execute(
                    update(t.webhook_endpoints)
                    .where(t.webhook_endpoints.c.id == endpoint_id)
                    .values(**values)
                )
        return self.get(endpoint_id)

    def remove(self, endpoint_id: int) -> Endpoint:
        """Delete the endpoint and its deliveries (its pending ones are not sent)."""
        endpoint = self.get(endpoint_id)
        with self._engine.begin() as conn:
            conn.execute(
                delete(t.webhook_deliveries).where(
                    t.webhook_deliveries.c.endpoint_id == endpoint_id
                )
            )
            conn.execute(delete(t.webhook_endpoints).where(t.webhook_endpoints.c.id == endpoint_id))
        return endpoint

    def rotate_secret(
        self, endpoint_id: int, *, overlap_seconds: int = ROTATION_OVERLAP_SECONDS
    ) -> CreatedEndpoint:
        """A new secret; the previous one keeps signing too for ``overlap_seconds``."""
        row = self._row(endpoint_id)
        secret = new_secret()
        now = int(self._clock())
        with self._engine.begin() as conn:
            conn.execute(
                update(t.webhook_endpoints)
                .where(t.webhook_endpoints.c.id == endpoint_id)
                .values(
                    secret=secret,
                    previous_secret=row.secret,
                    previous_secret_until=now + max(0, overlap_seconds),
                    updated_at=now,
                )
            )
        return CreatedEndpoint(self.get(endpoint_id), secret)

    def send_test(self, endpoint_id: int) -> Delivery:
        """Queue a ``ping`` to the endpoint (sent once by the delivery worker)."""
        endpoint = self.get(endpoint_id)
        now_ms = int(self._clock() * 1000)
        message = ping_message(endpoint.id, endpoint.account, now_ms)
        with self._engine.begin() as conn:
            delivery_id = conn.execute(
                insert(t.webhook_deliveries)
                .values(
                    endpoint_id=endpoint.id,
                    account_id=endpoint.account_id,
                    event_type=PING,
                    message_id=message.id,
                    body=message.body,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_ms=now_ms,
                    created_ms=now_ms,
                )
                .returning(t.webhook_deliveries.c.id)
            ).scalar_one()
        return self.delivery(endpoint.id, delivery_id)

    # -- deliveries --------------------------------------------------------------------

    def delivery(self, endpoint_id: int, delivery_id: int) -> Delivery:
        d = t.webhook_deliveries
        with self._engine.connect() as conn:
            row = conn.execute(
                select(d).where(d.c.id == delivery_id, d.c.endpoint_id == endpoint_id)
            ).first()
        if row is None:
            raise NotFoundError(
                f"no delivery {delivery_id} of webhook endpoint {endpoint_id}", field="delivery_id"
            )
        return _delivery(row)

    def deliveries(
        self,
        endpoint_id: int,
        *,
        status: DeliveryStatus | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Delivery]:
        """The endpoint's deliveries, newest first."""
        self._row(endpoint_id)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit must be 1..{MAX_PAGE}", field="limit")
        d = t.webhook_deliveries
        query = select(d).where(d.c.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(d.c.status == status.value)
        if before_id is not None:
            query = query.where(d.c.id < before_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(d.c.id.desc()).limit(limit)).all()
        return [_delivery(row) for row in rows]

    def stats(self, endpoint_id: int) -> DeliveryStats:
        """Counts by status, the age of the oldest pending delivery, and the lag (event to
        receipt) of the most recent deliveries."""
        self._row(endpoint_id)
        d = t.webhook_deliveries
        now_ms = int(self._clock() * 1000)
        with self._engine.connect() as conn:
            counts = {
                str(row[0]): int(row[1])
                for row in conn.execute(
                    select(d.c.status, func.count())
                    .where(d.c.endpoint_id == endpoint_id)
                    .group_by(d.c.status)
                )
            }
            oldest = conn.execute(
                select(func.min(d.c.created_ms)).where(
                    d.c.endpoint_id == endpoint_id, d.c.status == DeliveryStatus.PENDING.value
                )
            ).scalar()
            lags = sorted(
                conn.execute(
                    select(d.c.delivered_ms - d.c.created_ms)
                    .where(
                        d.c.endpoint_id == endpoint_id,
                        d.c.status == DeliveryStatus.DELIVERED.value,
                    )
                    .order_by(d.c.id.desc())
                    .limit(_LAG_SAMPLE)
                ).scalars()
            )
        return DeliveryStats(
            pending=int(counts.get("pending", 0)),
            delivered=int(counts.get("delivered", 0)),
            failed=int(counts.get("failed", 0)),
            oldest_pending_ms=None if oldest is None else max(0, now_ms - int(oldest)),
            lag_p50_ms=_percentile(lags, 0.5),
            lag_p99_ms=_percentile(lags, 0.99),
        )

    def retry(self, endpoint_id: int, delivery_id: int) -> Delivery:
        """Send a delivery again now (any status); its retry schedule starts over."""
        self.delivery(endpoint_id, delivery_id)
        d = t.webhook_deliveries
        with self._engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.c.id == delivery_id)
                .values(
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_ms=int(self._clock() * 1000),
                    delivered_ms=None,
                )
            )
        return self.delivery(endpoint_id, delivery_id)

    def replay(self, endpoint_id: int, since: int, until: int | None = None) -> int:
        """Queue again every event the endpoint subscribes to with ``since <= create_time
        < until`` (Unix s); return how many deliveries were added. A replayed event keeps
        its message id, so receivers that de-duplicate see it as the same message."""
        endpoint = self.get(endpoint_id)
        now = int(self._clock())
        end = now + 1 if until is None else until
        if since >= end:
            raise InvalidInputError("since must be before until", field="since")
        e = t.events
        kinds = [
            kind
            for kind in ("subscribe_scan", "scan", "subscribe", "unsubscribe")
            if set(event_types_of_kind(kind)) & set(endpoint.event_types)
        ]
        if not kinds:
            return 0
        query = select(e.c.id, e.c.account_id, e.c.dedup_key, e.c.kind, e.c.openid).where(
            e.c.create_time >= since, e.c.create_time < end, e.c.kind.in_(kinds)
        )
        if endpoint.account_id is not None:
            query = query.where(e.c.account_id == endpoint.account_id)
        now_ms = now * 1000
        with self._engine.begin() as conn:
            events = conn.execute(query.order_by(e.c.id).limit(MAX_REPLAY + 1)).all()
            if len(events) > MAX_REPLAY:
                raise InvalidInputError(
                    f"more than {MAX_REPLAY} events in that range: replay a shorter one",
                    field="since",
                )
            rows = [
                (
                    endpoint.id,
                    row.account_id,
                    kind,
                    row.dedup_key,
                    row.id,
                    row.openid,
                    DeliveryStatus.PENDING.value,
                    0,
                    now_ms,
                    now_ms,
                )
                for row in events
                for kind in event_types_of_kind(row.kind)
                if kind in endpoint.event_types
            ]
            insert_deliveries(conn, rows)
        return len(rows)

    def account_id_of(self, appid: str | None) -> int | None:
        if appid is None:
            return None
        found = get_account(self._engine, appid)
        if found is None and appid.isdigit():
            found = get_account_by_id(self._engine, int(appid))
        if found is None:
            raise NotFoundError(f"no account {appid!r}", field="account")
        return found.id
