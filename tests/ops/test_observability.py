"""/metrics, /healthz, /readyz and the structured logs of a real ``wxqr serve``."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy import text as sa_text

from tests.ops.serving import free_port, serve_env, wxqr_serve
from tests.support import pushes as p
from wxqr.emulator.testing import EmulatorAccount, running_emulator
from wxqr.protocol import EncryptMode
from wxqr.settings import Settings
from wxqr.web.app import create_app
from wxqr.web.metrics import WxqrMetrics
from wxqr.wechat import ClientConfig, InvalidCredentials, SyncWeChatClient, observe_calls

SECRET = "observability-secret"


def _sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name{labels}`` in a Prometheus text exposition."""
    for line in exposition.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return None


def test_a_served_push_shows_in_metrics_logs_and_readiness(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    account = EmulatorAccount(
        appid=p.APPID,
        secret=SECRET,
        token=p.TOKEN,
        aes_key=p.AES_KEY,
        mode=EncryptMode.SAFE,
        original_id=p.ORIGINAL_ID,
        push_url=f"http://127.0.0.1:{port}/wechat/{p.APPID}",
    )
    log = tmp_path / "serve.log"
    with running_emulator(accounts=[account]) as emu:
        env = serve_env(
            database_url,
            WXQR_WORKER="1",
            WXQR_WORKER_POLL_SECONDS="0.05",
            WXQR_APP_SECRET=SECRET,
            WXQR_WECHAT_API_BASE=emu.base_url,
            WXQR_WECHAT_MP_BASE=emu.base_url,
            WXQR_LOG_FORMAT="json",
            WXQR_ACCESS_LOG="1",
        )
        base = f"http://127.0.0.1:{port}"
        with wxqr_serve(env, port, "--log-level", "info", log=log):
            assert emu.follow("o-metrics").error is None
            refused = httpx.post(
                f"{base}/wechat/{p.APPID}",
                params={"signature": "0" * 40, "timestamp": "1", "nonce": "n"},
                content=b"<xml/>",
                headers={"X-Request-ID": "nginx-req-42"},
            )
            assert refused.status_code == 403
            assert refused.headers["x-request-id"] == "nginx-req-42"

            ready = httpx.get(f"{base}/readyz")
            assert ready.status_code == 200
            assert ready.json() == {
                "status": "ready",
                "checks": {"database": "ok", "writer": "ok"},
            }
            assert httpx.get(f"{base}/healthz").json()["status"] == "ok"

            # The worker fetches the new follower's profile: a token, then user/info.
            deadline = time.monotonic() + 20
            while True:
                metrics = httpx.get(f"{base}/metrics")
                assert metrics.status_code == 200
                assert metrics.headers["content-type"].startswith("text/plain")
                text = metrics.text
                if _sample(text, "wxqr_wechat_calls_total", path="/cgi-bin/user/info", errcode="0"):
                    break
                assert time.monotonic() < deadline, text
                time.sleep(0.1)

    assert _sample(text, "wxqr_pushes_total", kind="subscribe", answer="200") == 1
    assert _sample(text, "wxqr_pushes_total", kind="none", answer="403") == 1
    assert _sample(text, "wxqr_webhook_seconds_count") == 2
    assert _sample(text, "wxqr_push_delivery_lag_seconds_count") == 1
    assert _sample(text, "wxqr_writer_batch_size_count") == 1
    assert _sample(text, "wxqr_writer_batch_size_sum") == 1
    assert _sample(text, "wxqr_writer_commit_seconds_count") == 1
    assert _sample(text, "wxqr_wechat_token_refreshes_total", outcome="ok") == 1
    assert _sample(text, "wxqr_ingest_queue_pushes") == 0
    assert _sample(text, "wxqr_jobs", status="pending") is not None
    assert _sample(text, "wxqr_jobs_oldest_due_seconds") is not None

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "wxqr.access"]
    tagged = [line for line in access if line.get("request_id") == "nginx-req-42"]
    assert len(tagged) == 1
    assert tagged[0]["status"] == 403
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", tagged[0]["ts"])
    # Every request got an id of its own, and the push's refusal is logged under its id.
    assert all(line.get("request_id") for line in access)
    refusal = [line for line in lines if "refused a push" in line["msg"]]
    assert [line["request_id"] for line in refusal] == ["nginx-req-42"]


def _app(database_url: str, engine: Engine, **settings: object) -> TestClient:
    fields: dict[str, object] = {"database_url": database_url, "worker_enabled": False}
    fields.update(settings)
    return TestClient(create_app(Settings(**fields)))  # type: ignore[arg-type]


def test_metrics_needs_the_token_when_one_is_set(database_url: str, engine: Engine) -> None:
    with _app(database_url, engine, metrics_token="s3cret-scrape") as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["content-type"] == "application/problem+json"
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert ok.status_code == 200
        assert "wxqr_pushes_total" in ok.text or "# HELP wxqr_pushes" in ok.text


def test_metrics_refuse_a_remote_client_without_a_token(database_url: str, engine: Engine) -> None:
    with _app(database_url, engine) as client:  # TestClient's address is "testclient"
        refused = client.get("/metrics")
        assert refused.status_code == 403
        assert "loopback" in refused.json()["detail"]


def test_readyz_is_503_naming_redis_when_it_is_down(database_url: str, engine: Engine) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with _app(database_url, engine, redis_url=dead, ingest_writer="thread") as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"].startswith("failed: ")
        assert str(dead) not in json.dumps(body)
        assert client.get("/healthz").status_code == 200


def test_wechat_errcodes_and_token_refreshes_are_counted(database_url: str, engine: Engine) -> None:
    metrics = WxqrMetrics(engine)
    metrics.watch_wechat_calls()
    try:
        with running_emulator() as emu:
            config = ClientConfig(appid="wxemulator00000001", secret="wrong", api_base=emu.base_url)
            with SyncWeChatClient(config) as client, pytest.raises(InvalidCredentials):
                client.access_token()
            good = ClientConfig(
                appid="wxemulator00000001", secret="emulator-secret", api_base=emu.base_url
            )
            with SyncWeChatClient(good) as client:
                client.access_token()
    finally:
        observe_calls(None)
    text = metrics.exposition().decode()
    errcodes = {
        labels: value
        for labels, value in [
            (o, _sample(text, "wxqr_wechat_token_refreshes_total", outcome=o))
            for o in ("ok", "40125", "40013")
        ]
        if value
    }
    assert errcodes.get("ok") == 1
    assert sum(v for k, v in errcodes.items() if k != "ok") == 1


def test_the_outbound_webhook_queue_is_measured(database_url: str, engine: Engine) -> None:
    """Deliveries by status, the age of the oldest pending one, events not yet fanned out:
    read from the store's outbound webhook tables at each scrape."""
    metrics = WxqrMetrics(engine)
    before = metrics.exposition().decode()
    assert _sample(before, "wxqr_webhook_deliveries", status="pending") in (None, 0)
    now_ms = int(time.time() * 1000)
    with engine.begin() as conn:
        endpoint_id = conn.execute(
            sa_text(
                "INSERT INTO webhook_endpoints (url, event_types, enabled, secret, "
                "created_at, updated_at) VALUES ('http://127.0.0.1:9/', '[\"scan\"]', "
                ":enabled, 'whsec_x', 0, 0) RETURNING id"
            ),
            {"enabled": True},
        ).scalar_one()
        conn.execute(
            sa_text(
                "INSERT INTO webhook_deliveries (endpoint_id, event_type, dedup_key, openid, "
                "status, attempts, next_attempt_ms, created_ms) "
                "VALUES (:endpoint, 'scan', :key, 'o', :status, 0, :created, :created)"
            ),
            [
                {
                    "endpoint": endpoint_id,
                    "key": "k1",
                    "status": "pending",
                    "created": now_ms - 90_000,
                },
                {"endpoint": endpoint_id, "key": "k2", "status": "pending", "created": now_ms},
                {
                    "endpoint": endpoint_id,
                    "key": "k3",
                    "status": "delivered",
                    "created": now_ms - 500_000,
                },
            ],
        )
        for n in range(3):
            conn.execute(
                sa_text(
                    "INSERT INTO webhook_outbox (account_id, dedup_key, kind, openid, "
                    "received_ms) VALUES (1, :key, 'scan', 'o', :at)"
                ),
                {"key": f"o{n}", "at": now_ms},
            )
    text = metrics.exposition().decode()
    assert _sample(text, "wxqr_webhook_deliveries", status="pending") == 2
    assert _sample(text, "wxqr_webhook_deliveries", status="delivered") == 1
    assert _sample(text, "wxqr_webhook_outbox_events") == 3
    lag = _sample(text, "wxqr_webhook_delivery_lag_seconds")
    assert lag is not None
    assert 89 <= lag < 120
