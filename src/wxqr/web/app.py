"""The app factory: ``create_app(runtime)`` builds the FastAPI app ``wxqr serve`` runs.

It serves the webhook (``/wechat/{appid}``, ``/wechat``), ``/healthz``, ``/readyz`` and
``/metrics`` (:mod:`wxqr.web.health`, :mod:`wxqr.web.metrics`), and includes
``wxqr.web.api.router`` and ``wxqr.web.dashboard.router`` when those modules exist.
The app builds nothing itself: every shared object comes from the serving
:class:`wxqr.runtime.Runtime` (the composition root), ``request.app.state.runtime``.
``app.state`` also names its parts for code that needs only one:

* ``settings`` — :class:`wxqr.settings.Settings`
* ``engine`` — the SQLAlchemy engine (reads and ordinary writes)
* ``ingest`` — :class:`wxqr.service.ingest.IngestService`
* ``catalog`` — the :class:`wxqr.service.catalog_version.CatalogVersion` the webhook's
  caches follow; every service that changes scenes, channels or accounts bumps it
* ``worker`` — the background :class:`wxqr.service.worker.JobWorker` (or None)

The schema must be migrated before (``wxqr serve`` does it, see :mod:`wxqr.store.migrate`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from wxqr._version import __version__
from wxqr.heap import settle_heap
from wxqr.logs import configure_logging
from wxqr.runtime import Runtime
from wxqr.settings import Settings
from wxqr.web.health import healthz, readyz
from wxqr.web.metrics import WxqrMetrics, metrics_endpoint
from wxqr.web.observe import RequestObserver
from wxqr.web.request_bounds import RequestBounds
from wxqr.web.webhook import Receive, Scope, Send, WebhookApp

__all__ = ["OPTIONAL_ROUTERS", "WxqrApp", "create_app", "create_app_from_env", "create_serving_app"]

log = logging.getLogger(__name__)

# Modules whose ``router`` create_app includes when they exist.
OPTIONAL_ROUTERS = ("wxqr.web.api", "wxqr.web.dashboard")


def _include_optional_routers(app: FastAPI) -> None:
    for name in OPTIONAL_ROUTERS:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            continue
        module = importlib.import_module(name)
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            app.include_router(router)
            install = getattr(module, "install", None)
            if callable(install):  # what the module adds to the app (e.g. its OpenAPI)
                install(app)
        else:  # a package still being built, without its router yet
            log.debug("%s has no router; not included", name)


class WxqrApp(FastAPI):
    """FastAPI with the webhook in front of its routing and middleware (ADR 0003).

    Every request goes first to :attr:`webhook`, which answers ``/wechat`` and
    ``/wechat/{appid}`` itself and hands every other path to FastAPI.
    """

    webhook: WebhookApp | None = None
    # ops: request ids, metrics and the access log around everything (wxqr.web.observe)
    front: RequestObserver | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None:
            await self.front(scope, receive, send)
        else:
            await self.route(scope, receive, send)

    async def route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The webhook's paths to it, everything else to FastAPI."""
        if self.webhook is not None:  # it hands everything but its own paths to FastAPI
            await self.webhook(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def serve_framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own handling (routing, middleware): the webhook's fallback."""
        await super().__call__(scope, receive, send)


def create_app(
    source: Runtime | Settings | None = None, *, engine: Engine | None = None
) -> WxqrApp:
    """Build the app over ``source``: a serving :class:`~wxqr.runtime.Runtime` (the
    caller keeps it and closes it after the app stopped), or settings (default: the
    environment) from which the app opens a runtime of its own, closed when it stops;
    ``engine`` is then used instead of one for ``settings.database_url`` (and never
    disposed by the app). The schema must be migrated before."""
    if isinstance(source, Runtime):
        if engine is not None:
            raise TypeError("engine goes with settings, not with a runtime")
        runtime, owns_runtime = source, False
    else:
        runtime = Runtime.open(source or Settings.from_env(), engine=engine, serve=True)
        owns_runtime = True
    if runtime.ingest is None:
        raise ValueError("create_app needs a runtime opened with serve=True")
    settings, ingest = runtime.settings, runtime.ingest

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.gil_switch_interval > 0:
            # The writer thread releases the GIL at every database call; with Python's
            # default 5 ms switch interval each call would wait for the busy event loop.
            sys.setswitchinterval(settings.gil_switch_interval)
        await runtime.start_serving()
        try:
            yield
        finally:
            await runtime.stop_serving()
            if owns_runtime:
                await anyio.to_thread.run_sync(runtime.close)

    # The REST API's OpenAPI document; its docs page (self-hosted Swagger UI, no CDN) is
    # served by wxqr.web.api at /api/v1/docs, so FastAPI's CDN-based pages are off.
    app = WxqrApp(
        title="wxqr",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    app.state.ingest = ingest
    app.state.catalog = runtime.catalog
    app.state.worker = runtime.worker
    app.state.webhook_dispatcher = runtime.webhook_dispatcher
    app.webhook = WebhookApp(
        ingest,
        app.serve_framework,
        max_age=settings.push_max_age_seconds,
        max_body=settings.max_body_bytes,
    )
    # ops: liveness, readiness, metrics; the request observer in front of it all
    app.add_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
    metrics = WxqrMetrics(runtime.engine, ingest)
    metrics.watch_wechat_calls()
    app.state.metrics = metrics
    app.add_route(
        "/metrics",
        metrics_endpoint(metrics, settings.metrics_token),
        methods=["GET"],
        include_in_schema=False,
    )
    app.front = RequestObserver(app.route, metrics=metrics, access_log=settings.access_log)
    _include_optional_routers(app)
    _bound_requests(app, settings)
    return app


def _bound_requests(app: FastAPI, settings: Settings) -> None:
    """Every request but the webhook's: bounded bodies, and the REST API's key checked
    before its body is read (:mod:`wxqr.web.request_bounds`)."""
    from wxqr.web.api import IMPORT_PATHS, PREFIX
    from wxqr.web.api._guard import PUBLIC_PATH_PATTERNS, PUBLIC_PATHS, api_key_check

    app.add_middleware(
        RequestBounds,
        max_body=settings.api_max_body_bytes,
        import_max_body=settings.import_max_body_bytes,
        import_paths=IMPORT_PATHS,
        guarded_prefix=PREFIX,
        public_paths=PUBLIC_PATHS,
        public_patterns=PUBLIC_PATH_PATTERNS,
        key_check=api_key_check,
    )


def create_serving_app(source: Runtime | Settings) -> WxqrApp:
    """The app of a process that does nothing but serve it (``wxqr serve`` and each of its
    workers): :func:`create_app`, then the process's heap is settled (:mod:`wxqr.heap`)."""
    app = create_app(source)
    settle_heap()
    return app


def create_app_from_env() -> WxqrApp:
    """Factory for ``uvicorn --factory wxqr.web.app:create_app_from_env`` (several workers).

    A worker process starts without the parent's logging set up: it configures its own
    from ``WXQR_LOG_FORMAT`` (ops)."""
    settings = Settings.from_env()
    if not logging.getLogger().handlers:
        configure_logging(settings.log_format)
    return create_serving_app(settings)
