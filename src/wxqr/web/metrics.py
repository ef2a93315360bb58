"""``GET /metrics``: the process's metrics in Prometheus' text format (prometheus-client).

What is measured (every name starts with ``wxqr_``):

* ``pushes_total{kind, answer}`` — pushes the webhook answered, by event kind
  (``subscribe_scan``, ``scan``… or ``none`` when the push was refused before it could be
  read) and HTTP status (``200``, ``403``, ``503``…);
* ``webhook_seconds`` — histogram of the webhook's answer time (WeChat waits 5 s);
* ``push_delivery_lag_seconds`` — histogram of how late a stored push arrived after its
  ``CreateTime`` (WeChat's retries and queueing show here);
* ``writer_batch_size``, ``writer_commit_seconds`` — the group-commit writer's batches;
* ``ingest_queue_pushes`` — pushes waiting for the writer now; ``writer_restarts_total``;
* ``jobs{status}`` and ``jobs_oldest_due_seconds`` — the background job queue (read from
  the database at each scrape) and how long its oldest due job has waited;
* ``webhook_deliveries{status}``, ``webhook_delivery_lag_seconds`` and
  ``webhook_outbox_events`` — the outbound webhook queue, when the store has one;
* ``wechat_calls_total{path, errcode}`` — WeChat API calls by path and errcode (``0`` is
  success, ``transport``/``unexpected`` when no errcode came back);
  ``wechat_token_refreshes_total{outcome}`` — access-token fetches.

Access: with ``WXQR_METRICS_TOKEN`` set, a request needs ``Authorization: Bearer <token>``
(compared in constant time); without it only loopback clients (the host itself, e.g. a
local Prometheus or node agent) get an answer. Behind a reverse proxy the client address
is the forwarded one, so the public is refused either way. Each process counts for itself:
with ``wxqr serve --workers N`` a scrape reaches one of them (docs/deployment.md).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wxqr.protocol import Push
from wxqr.service.ingest import IngestService, event_kind
from wxqr.service.queue_depths import queue_depths
from wxqr.wechat import observe_calls

__all__ = ["CONTENT_TYPE", "WxqrMetrics", "metrics_endpoint"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_TOKEN_PATHS = ("/cgi-bin/stable_token", "/cgi-bin/token")
_JOB_STATUSES = ("pending", "running", "failed", "done")


class _QueueCollector(Collector):
    """Gauges read when scraped: the job queue (database) and the ingest writer's queue."""

    def __init__(self, engine: Engine, ingest: IngestService | None) -> None:
        self._engine = engine
        self._ingest = ingest

    def collect(self) -> Iterator[Metric]:
        depths = queue_depths(self._engine)
        jobs = GaugeMetricFamily("wxqr_jobs", "Background jobs by status.", labels=["status"])
        for status in sorted({*_JOB_STATUSES, *depths.jobs_by_status}):
            jobs.add_metric([status], depths.jobs_by_status.get(status, 0))
        yield jobs
        oldest = GaugeMetricFamily(
            "wxqr_jobs_oldest_due_seconds", "How long the oldest due pending job has waited."
        )
        oldest.add_metric([], depths.oldest_due_job_seconds)
        yield oldest
        deliveries = GaugeMetricFamily(
            "wxqr_webhook_deliveries", "Outbound webhook deliveries by status.", labels=["status"]
        )
        for status, count in sorted(depths.deliveries_by_status.items()):
            deliveries.add_metric([status], count)
        yield deliveries
        lag = GaugeMetricFamily(
            "wxqr_webhook_delivery_lag_seconds",
            "Age of the oldest outbound webhook delivery still pending.",
        )
        lag.add_metric([], depths.oldest_pending_delivery_seconds)
        yield lag
        outbox = GaugeMetricFamily(
            "wxqr_webhook_outbox_events", "Events not yet turned into webhook deliveries."
        )
        outbox.add_metric([], depths.outbox_events)
        yield outbox
        writer = self._ingest.writer if self._ingest is not None else None
        queued = GaugeMetricFamily(
            "wxqr_ingest_queue_pushes", "Pushes waiting for the group-commit writer."
        )
        queued.add_metric([], float(getattr(writer, "pending", 0)))
        yield queued
        restarts = GaugeMetricFamily(
            "wxqr_writer_restarts", "Times the writer process was started again."
        )
        restarts.add_metric([], float(getattr(writer, "restarts", 0)))
        yield restarts


class WxqrMetrics:
    """The metrics of one serving app, in a registry of its own."""

    def __init__(self, engine: Engine, ingest: IngestService | None = None) -> None:
        registry = self.registry = CollectorRegistry()
        self.pushes = Counter(
            "wxqr_pushes",
            "Pushes answered by the webhook, by event kind and HTTP status.",
            ["kind", "answer"],
            registry=registry,
        )
        self.webhook_seconds = Histogram(
            "wxqr_webhook_seconds",
            "Time the webhook took to answer a push.",
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 5),
            registry=registry,
        )
        self.delivery_lag = Histogram(
            "wxqr_push_delivery_lag_seconds",
            "How long after its CreateTime a stored push arrived.",
            buckets=(1, 2, 5, 10, 30, 60, 300, 600),
            registry=registry,
        )
        self.batch_size = Histogram(
            "wxqr_writer_batch_size",
            "Pushes per group-commit transaction.",
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "wxqr_writer_commit_seconds",
            "Time from handing a batch to the writer to its commit.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 4),
            registry=registry,
        )
        self.wechat_calls = Counter(
            "wxqr_wechat_calls",
            "WeChat API calls by path and errcode (0: success).",
            ["path", "errcode"],
            registry=registry,
        )
        self.token_refreshes = Counter(
            "wxqr_wechat_token_refreshes",
            "Access-token fetches from WeChat, by outcome (ok or the errcode).",
            ["outcome"],
            registry=registry,
        )
        registry.register(_QueueCollector(engine, ingest))
        if ingest is not None:
            ingest.writer.on_batch = self.observe_batch

    def observe_push(self, push: Push | None, status: int, seconds: float) -> None:
        """One webhook answer (``push`` None when it was refused before being read)."""
        kind = event_kind(push) if push is not None else "none"
        self.pushes.labels(kind, str(status)).inc()
        self.webhook_seconds.observe(seconds)
        if push is not None and status == 200:
            self.delivery_lag.observe(max(0.0, time.time() - push.create_time))

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.commit_seconds.observe(seconds)

    def observe_call(self, path: str, outcome: str) -> None:
        self.wechat_calls.labels(path, outcome).inc()
        if path in _TOKEN_PATHS:
            self.token_refreshes.labels("ok" if outcome == "0" else outcome).inc()

    def watch_wechat_calls(self) -> None:
        """Count this process's WeChat API calls here (the observer is process-wide)."""
        observe_calls(self.observe_call)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Forbidden" if status == 403 else "Unauthorized",
            "status": status,
            "detail": detail,
        },
        status_code=status,
        media_type="application/problem+json",
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


def metrics_endpoint(metrics: WxqrMetrics, token: str | None) -> Callable[[Request], Response]:
    """The ``/metrics`` endpoint over ``metrics``, guarded by ``token`` (see the module)."""

    def endpoint(request: Request) -> Response:
        if token is not None:
            given = request.headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), token.encode()
            ):
                return _refused(401, "/metrics needs Authorization: Bearer <WXQR_METRICS_TOKEN>")
        elif not _loopback(request.client.host if request.client else None):
            return _refused(
                403, "/metrics answers loopback clients only (or set WXQR_METRICS_TOKEN)"
            )
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return endpoint
