"""The retry schedule, pruning of delivered rows, and the webhook settings."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, insert, select

from wxqr.service.webhooks import RETRY_SCHEDULE_SECONDS, AddressPolicy, WebhookService
from wxqr.service.webhooks._claims import next_delay, prune
from wxqr.settings import Settings, SettingsError
from wxqr.store import tables as t


def test_retry_schedule_covers_about_a_day_with_jitter() -> None:
    assert RETRY_SCHEDULE_SECONDS == (5, 30, 120, 600, 3600, 10800, 21600, 43200)
    assert 20 * 3600 < sum(RETRY_SCHEDULE_SECONDS) < 26 * 3600
    delays = [next_delay(1) for _ in range(200)]
    assert all(d is not None and 4.5 <= d <= 5.5 for d in delays)
    assert len(set(delays)) > 100  # jittered, so retries of many deliveries spread out
    assert next_delay(len(RETRY_SCHEDULE_SECONDS) + 1) is None  # then failed
    assert next_delay(2, (0.1, 0.2)) == pytest.approx(0.2, rel=0.11)


def _delivery(endpoint_id: int, status: str, delivered_ms: int | None) -> dict[str, object]:
    return {
        "endpoint_id": endpoint_id,
        "event_type": "ping",
        "status": status,
        "attempts": 1,
        "next_attempt_ms": 0,
        "created_ms": 0,
        "delivered_ms": delivered_ms,
    }


def test_prune_keeps_recent_pending_and_failed(engine: Engine) -> None:
    service = WebhookService(engine, AddressPolicy(allow_http=True, allow_private=True))
    endpoint = service.create("http://127.0.0.1:9/x", ["scan"]).endpoint
    now_ms = int(time.time() * 1000)
    day = 86_400_000
    with engine.begin() as conn:
        conn.execute(
            insert(t.webhook_deliveries),
            [
                _delivery(endpoint.id, "delivered", now_ms - 8 * day),  # old: pruned
                _delivery(endpoint.id, "delivered", now_ms - day),  # recent: kept
                _delivery(endpoint.id, "failed", None),  # failed: kept
                _delivery(endpoint.id, "pending", None),  # pending: kept
                _delivery(endpoint.id + 100, "pending", None),  # endpoint gone: pruned
            ],
        )
    assert prune(engine, now_ms, 7 * day) == 2
    with engine.connect() as conn:
        left = conn.execute(
            select(t.webhook_deliveries.c.status).order_by(t.webhook_deliveries.c.id)
        ).scalars()
        assert list(left) == ["delivered", "failed", "pending"]
    stats = service.stats(endpoint.id)
    assert (stats.pending, stats.delivered, stats.failed) == (1, 1, 1)


def test_settings() -> None:
    settings = Settings.from_env(
        {
            "WXQR_WEBHOOK_ALLOW_HTTP": "1",
            "WXQR_WEBHOOK_ALLOW_PRIVATE": "true",
            "WXQR_WEBHOOK_RETENTION_DAYS": "2.5",
        }
    )
    assert settings.webhook_allow_http is True
    assert settings.webhook_allow_private is True
    assert settings.webhook_retention_days == 2.5
    defaults = Settings.from_env({})
    assert defaults.webhook_allow_http is False
    assert defaults.webhook_allow_private is False
    assert defaults.webhook_retention_days == 7.0
    with pytest.raises(SettingsError, match="WXQR_WEBHOOK_ALLOW_PRIVATE"):
        Settings.from_env({"WXQR_WEBHOOK_ALLOW_PRIVATE": "maybe"})
