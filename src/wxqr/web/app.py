"""The app factory: ``create_app(settings)`` builds the FastAPI app ``wxqr serve`` runs.

It serves the webhook (``/wechat/{appid}``, ``/wechat``) and ``/healthz``, and includes
``wxqr.web.api.router`` and ``wxqr.web.dashboard.router`` when those modules exist.
Routers reach the shared objects through ``request.app.state``:

* ``settings`` — :class:`wxqr.settings.Settings`
* ``engine`` — the SQLAlchemy engine (reads and ordinary writes)
* ``ingest`` — :class:`wxqr.service.ingest.IngestService`
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
from starlette.requests import Request
from starlette.responses import JSONResponse

from wxqr._version import __version__
from wxqr.heap import settle_heap
from wxqr.service.chores import resume_reservations_chore
from wxqr.service.codes import CodeService
from wxqr.service.ingest import IngestOptions, IngestService, WriterConfig
from wxqr.service.webhooks import DeliveryWorker, delivery_worker  # webhooks:
from wxqr.service.wechat_clients import WeChatClients
from wxqr.service.worker import JobWorker, WorkerOptions
from wxqr.settings import Settings
from wxqr.store.db import is_memory_database, make_engine
from wxqr.store.engines import make_writer_engine
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
        router = getattr(importlib.import_module(name), "router", None)
        if isinstance(router, APIRouter):
            app.include_router(router)
        else:  # a package still being built, without its router yet
            log.debug("%s has no router; not included", name)


class WxqrApp(FastAPI):
    """FastAPI with the webhook in front of its routing and middleware (ADR 0003).

    Every request goes first to :attr:`webhook`, which answers ``/wechat`` and
    ``/wechat/{appid}`` itself and hands every other path to FastAPI.
    """

    webhook: WebhookApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.webhook is not None:  # it hands everything but its own paths to FastAPI
            await self.webhook(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def serve_framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own handling (routing, middleware): the webhook's fallback."""
        await super().__call__(scope, receive, send)


async def _healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> WxqrApp:
    """Build the app. ``engine`` (default: one for ``settings.database_url``) is not
    disposed by the app when given; the group-commit writer gets an engine of its own."""
    settings = settings or Settings.from_env()
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    writer_url = (
        settings.database_url if own_engine else engine.url.render_as_string(hide_password=False)
    )
    writer_process: WriterConfig | None = None
    writer_engine: Engine | None = None
    if settings.ingest_writer == "process" and not is_memory_database(writer_url):
        writer_process = WriterConfig(
            database_url=writer_url,
            synchronous=settings.sqlite_synchronous,
            batch_max=settings.batch_max,
            cache_ttl_seconds=settings.cache_ttl_seconds,
        )
    else:
        writer_engine = make_writer_engine(writer_url, synchronous=settings.sqlite_synchronous)
    ingest = IngestService(
        engine,
        IngestOptions(
            deadline_seconds=settings.push_deadline_seconds,
            batch_max=settings.batch_max,
            cache_ttl_seconds=settings.cache_ttl_seconds,
            store_raw_xml=settings.store_raw_xml,
            fetch_user_info=settings.fetch_user_info,
        ),
        writer_engine=writer_engine,
        writer_process=writer_process,
        env_account=settings.env_account,
    )
    worker: JobWorker | None = None
    worker_engine: Engine | None = None
    webhook_dispatcher: DeliveryWorker | None = None  # webhooks:
    if settings.worker_enabled:
        worker_engine = make_writer_engine(writer_url, synchronous=settings.sqlite_synchronous)
        reservations = CodeService(
            worker_engine, WeChatClients.from_settings(worker_engine, settings).client
        )
        worker = JobWorker(
            worker_engine,
            WorkerOptions.from_settings(settings),
            chores=[resume_reservations_chore(reservations)],
        )
        webhook_dispatcher = delivery_worker(writer_url, settings)  # webhooks: beside the worker
        wake = worker.wake
        ingest.writer.on_commit = lambda results: (
            wake() if any(r.inserted for r in results) else None
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.gil_switch_interval > 0:
            # The writer thread releases the GIL at every database call; with Python's
            # default 5 ms switch interval each call would wait for the busy event loop.
            sys.setswitchinterval(settings.gil_switch_interval)
        await anyio.to_thread.run_sync(ingest.sync_env_account)
        await anyio.to_thread.run_sync(ingest.writer.start)
        if worker is not None:
            worker.start()
        if webhook_dispatcher is not None:  # webhooks:
            webhook_dispatcher.start()  # webhooks:
        try:
            yield
        finally:
            if webhook_dispatcher is not None:  # webhooks:
                await anyio.to_thread.run_sync(webhook_dispatcher.stop)  # webhooks:
            if worker is not None:
                await anyio.to_thread.run_sync(worker.stop)
            await ingest.aclose()
            if writer_engine is not None:
                writer_engine.dispose()
            if worker_engine is not None:
                worker_engine.dispose()
            if own_engine:
                engine.dispose()

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
    app.state.settings = settings
    app.state.engine = engine
    app.state.ingest = ingest
    app.state.worker = worker
    app.state.webhook_dispatcher = webhook_dispatcher  # webhooks:
    app.webhook = WebhookApp(
        ingest,
        app.serve_framework,
        max_age=settings.push_max_age_seconds,
        max_body=settings.max_body_bytes,
    )
    app.add_route("/healthz", _healthz, methods=["GET"], include_in_schema=False)
    _include_optional_routers(app)
    return app


def create_serving_app(settings: Settings) -> WxqrApp:
    """The app of a process that does nothing but serve it (``wxqr serve`` and each of its
    workers): :func:`create_app`, then the process's heap is settled (:mod:`wxqr.heap`)."""
    app = create_app(settings)
    settle_heap()
    return app


def create_app_from_env() -> WxqrApp:
    """Factory for ``uvicorn --factory wxqr.web.app:create_app_from_env`` (several workers)."""
    return create_serving_app(Settings.from_env())
