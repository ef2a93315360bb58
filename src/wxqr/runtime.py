"""The composition root: every long-lived object of a wxqr process, built in one place.

``Runtime.open(settings)`` builds, from one :class:`~wxqr.settings.Settings` value, the
engine, the one :class:`~wxqr.service.wechat_clients.WeChatClients` (the token cache,
database or Redis, is chosen there once), the adapters' :class:`~wxqr.service.workspace.Workspace`
of services and, for a serving process (``serve=True``), the ingest service with its
group-commit writer and the background worker (which calls WeChat through the same
factory). ``close()`` releases all of it; a runtime is a context manager.

Every adapter starts here: ``wxqr serve`` and ``create_app`` (the web app), each CLI
command (through ``wxqr.cli._ws``), the demo. Nothing else opens engines, reads the
environment or builds WeChat clients. See docs/adr/0004-composition-root.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import anyio
from sqlalchemy import Engine

from wxqr.protocol import PERMANENT_CODE_LIMIT
from wxqr.service.accounts import sync_env_account
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.chores import (
    code_lifecycle_chore,
    resume_reservations_chore,
    scan_sessions_chore,
)
from wxqr.service.code_images import CodeImages, ImageSpec  # lifecycle:
from wxqr.service.code_lifecycle import CodeLifecycle  # lifecycle:
from wxqr.service.codes import CodeService
from wxqr.service.ingest import IngestOptions, IngestService, WriterConfig
from wxqr.service.quotas import QuotaService  # lifecycle:
from wxqr.service.scan_sessions import ScanSessionService
from wxqr.service.secrets_box import SecretBox, bind_secret_box
from wxqr.service.secrets_rotation import check_stored_secrets
from wxqr.service.stats.rollups import rollups_chore
from wxqr.service.webhooks import DeliveryWorker, delivery_worker
from wxqr.service.wechat_clients import WeChatClients
from wxqr.service.worker import JobWorker, WorkerOptions
from wxqr.service.workspace import Workspace
from wxqr.settings import Settings
from wxqr.store.db import is_memory_database, make_engine
from wxqr.store.engines import make_writer_engine
from wxqr.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    previous_revision,
    upgrade,
)

__all__ = ["Runtime"]

_log = logging.getLogger(__name__)


class Runtime:
    """One process's wiring. Build it with :meth:`open`; the attributes are read-only.

    * ``settings`` — what it was built from;
    * ``engine`` — reads and ordinary writes (disposed by :meth:`close` unless given);
    * ``clients`` — the one WeChat client factory;
    * ``workspace`` — the services the REST API, dashboard and CLI use;
    * ``ingest`` — the webhook's ingest service (serving runtimes only, else None);
    * ``worker`` — the background job worker (serving runtimes with ``WXQR_WORKER``);
    * ``writer_engine`` — the group-commit writer's engine when it writes in this process
      (``WXQR_INGEST_WRITER=thread`` or an in-memory database), else None;
    * ``worker_engine`` — the worker's engine (None without a worker);
    * ``secret_box`` — what stored secrets are encrypted with (``WXQR_SECRET_KEY``), bound
      to every engine above.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        clients: WeChatClients,
        workspace: Workspace,
        *,
        catalog: CatalogVersion,
        owns_engine: bool,
        ingest: IngestService | None = None,
        worker: JobWorker | None = None,
        writer_engine: Engine | None = None,
        worker_engine: Engine | None = None,
        webhook_dispatcher: DeliveryWorker | None = None,
        secret_box: SecretBox | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clients = clients
        self.workspace = workspace
        # The one version every scene/account change bumps and the webhook's caches follow.
        self.catalog = catalog
        self.ingest = ingest
        self.worker = worker
        self.writer_engine = writer_engine
        self.worker_engine = worker_engine
        # The outbound webhooks' delivery worker (a child process), beside the job worker.
        self.webhook_dispatcher = webhook_dispatcher
        self.secret_box = secret_box or SecretBox(settings.secret_keys)
        for bound in (engine, writer_engine, worker_engine):
            if bound is not None:
                bind_secret_box(bound, self.secret_box)
        self._owns_engine = owns_engine
        self._lock = threading.Lock()
        self._serving = False
        self._closed = False

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        engine: Engine | None = None,
        serve: bool = False,
        migrate: bool = False,
        sync_env_account: bool = True,
        clock: Callable[[], float] = time.time,
        permanent_limit: int = PERMANENT_CODE_LIMIT,
    ) -> Runtime:
        """Build the runtime of ``settings`` (default: :meth:`Settings.from_env`).

        ``engine``: use this engine (not disposed by :meth:`close`) instead of one for
        ``settings.database_url``. ``serve``: also build ingest and (when enabled) the
        worker; :meth:`start_serving` starts them. ``migrate``: bring the schema up to
        date first. ``sync_env_account``: store the ``WXQR_APPID`` account (added or
        updated), so the CLI sees it before ``wxqr serve`` ever ran.

        A serving runtime first checks that every stored secret opens with
        ``WXQR_SECRET_KEY`` (else :class:`~wxqr.service.secrets_box.SecretsUnreadable`: the
        server must not start to fail on every push), and warns once when the variable is
        not set (secrets are then stored in plaintext).
        """
        settings = settings or Settings.from_env()
        owns_engine = engine is None
        engine = engine or make_engine(settings.database_url, **_db_timeouts(settings))
        parts = _ServingParts()
        try:
            # Bound before anything reads the store (the runtime binds its other engines).
            box = SecretBox(settings.secret_keys)
            bind_secret_box(engine, box)
            if migrate:
                upgrade(engine)
            if serve:
                _check_secrets_for_serving(engine, box)
            clients = WeChatClients.from_settings(engine, settings)
            catalog = CatalogVersion()
            workspace = Workspace.open(
                engine,
                settings,
                clients=clients,
                clock=clock,
                permanent_limit=permanent_limit,
                catalog=catalog,
            )
            if serve:
                _build_serving_parts(parts, settings, engine, clients, catalog, clock)
            runtime = cls(
                settings,
                engine,
                clients,
                workspace,
                catalog=catalog,
                owns_engine=owns_engine,
                ingest=parts.ingest,
                worker=parts.worker,
                writer_engine=parts.writer_engine,
                worker_engine=parts.worker_engine,
                webhook_dispatcher=parts.webhook_dispatcher,
                secret_box=box,
            )
            if sync_env_account:
                runtime.sync_env_account()
        except BaseException:
            parts.dispose()
            if owns_engine:
                engine.dispose()
            raise
        return runtime

    def migrate(self) -> None:
        """Bring the schema to the newest revision (safe to repeat, and from several
        processes at once), then store the environment's account."""
        upgrade(self.engine)
        self.sync_env_account()

    def schema_revision(self) -> str | None:
        """The database's schema revision (``None``: an empty database)."""
        return current_revision(self.engine)

    @staticmethod
    def schema_head() -> str:
        """The newest schema revision this wxqr ships."""
        return head_revision()

    @staticmethod
    def schema_previous(revision: str) -> str:
        """The revision before ``revision`` ("base" before the first); ValueError if this
        wxqr does not know ``revision``."""
        return previous_revision(revision)

    def downgrade_schema(self, revision: str) -> None:
        """Undo migrations down to ``revision`` (``wxqr db downgrade``: the last one only)."""
        downgrade(self.engine, revision)

    def sync_env_account(self) -> None:
        """Add or update the account configured by ``WXQR_APPID``… (if any) in the store."""
        if self.ingest is not None:
            self.ingest.sync_env_account()  # also refreshes ingest's account cache
        elif self.settings.env_account is not None:
            sync_env_account(self.engine, self.settings.env_account, catalog=self.catalog)

    async def start_serving(self) -> None:
        """Start the group-commit writer and the worker (on the serving event loop)."""
        if self.ingest is None:
            raise RuntimeError("this runtime was not opened with serve=True")
        await anyio.to_thread.run_sync(self.ingest.sync_env_account)
        await anyio.to_thread.run_sync(self.ingest.writer.start)
        if self.worker is not None:
            self.worker.start()
        if self.webhook_dispatcher is not None:
            self.webhook_dispatcher.start()
        with self._lock:
            self._serving = True

    async def stop_serving(self) -> None:
        """Stop the worker, then the writer once what is queued is written (on the loop)."""
        with self._lock:
            serving, self._serving = self._serving, False
        if not serving:
            return
        if self.webhook_dispatcher is not None:
            await anyio.to_thread.run_sync(self.webhook_dispatcher.stop)
        if self.worker is not None:
            await anyio.to_thread.run_sync(self.worker.stop)
        if self.ingest is not None:
            await self.ingest.aclose()

    def close(self) -> None:
        """Stop whatever still runs and dispose the engines this runtime made (once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._serving = False
        if self.webhook_dispatcher is not None:
            self.webhook_dispatcher.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.ingest is not None:
            self.ingest.close()
        for helper in (self.writer_engine, self.worker_engine):
            if helper is not None:
                helper.dispose()
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check_secrets_for_serving(engine: Engine, box: SecretBox) -> None:
    check_stored_secrets(engine, box)
    if not box.enabled:
        _log.warning(
            "WXQR_SECRET_KEY is not set: account secrets, access tokens and the session "
            "secret are stored in plaintext (see docs/security.md, 'Secrets at rest')"
        )


class _ServingParts:
    """What a serving runtime adds, gathered while it is built (disposed if that fails)."""

    def __init__(self) -> None:
        self.ingest: IngestService | None = None
        self.worker: JobWorker | None = None
        self.writer_engine: Engine | None = None
        self.worker_engine: Engine | None = None
        self.webhook_dispatcher: DeliveryWorker | None = None

    def dispose(self) -> None:
        for helper in (self.writer_engine, self.worker_engine):
            if helper is not None:
                helper.dispose()


def _db_timeouts(settings: Settings) -> dict[str, float]:
    """The engine factory's PostgreSQL timeouts (issue 14: a hung database must not hold
    requests forever)."""
    return {
        "connect_timeout": settings.db_connect_timeout_seconds,
        "statement_timeout": settings.db_statement_timeout_seconds,
    }


def _signature_ttl(settings: Settings) -> float:
    """How long the replay guard remembers a signed query: as long as its timestamp can
    still pass the freshness check, which accepts it up to the window behind *or ahead*
    of now (so twice the window, plus a minute of clock slack); a day when it is off."""
    window = settings.push_max_age_seconds
    return 2 * window + 60.0 if window > 0 else 86400.0


def _build_serving_parts(
    parts: _ServingParts,
    settings: Settings,
    engine: Engine,
    clients: WeChatClients,
    catalog: CatalogVersion,
    clock: Callable[[], float],
) -> None:
    """The webhook's ingest (its writer in a child process or a thread, ADR 0003) and the
    worker, into ``parts``."""
    writer_url = engine.url.render_as_string(hide_password=False)
    writer_process: WriterConfig | None = None
    writer_engine: Engine | None = None
    if settings.ingest_writer == "process" and not is_memory_database(writer_url):
        writer_process = WriterConfig(
            database_url=writer_url,
            synchronous=settings.sqlite_synchronous,
            batch_max=settings.batch_max,
            cache_ttl_seconds=settings.cache_ttl_seconds,
            signature_ttl_seconds=_signature_ttl(settings),
            connect_timeout_seconds=settings.db_connect_timeout_seconds,
            statement_timeout_seconds=settings.db_statement_timeout_seconds,
        )
    else:
        writer_engine = make_writer_engine(
            writer_url, synchronous=settings.sqlite_synchronous, **_db_timeouts(settings)
        )
        parts.writer_engine = writer_engine
    ingest = parts.ingest = IngestService(
        engine,
        IngestOptions(
            deadline_seconds=settings.push_deadline_seconds,
            batch_max=settings.batch_max,
            cache_ttl_seconds=settings.cache_ttl_seconds,
            store_raw_xml=settings.store_raw_xml,
            fetch_user_info=settings.fetch_user_info,
            signature_ttl_seconds=_signature_ttl(settings),
        ),
        writer_engine=writer_engine,
        writer_process=writer_process,
        env_account=settings.env_account,
        catalog_version=catalog,
    )
    if not settings.worker_enabled:
        return
    # The worker writes from its own thread with BEGIN IMMEDIATE on SQLite (a
    # read-then-write never fails on a busy snapshot), as the ingest writer does.
    worker_engine = parts.worker_engine = make_writer_engine(
        writer_url, synchronous=settings.sqlite_synchronous, **_db_timeouts(settings)
    )
    reservations = CodeService(worker_engine, clients.client, clock=clock, catalog=catalog)
    worker = parts.worker = JobWorker(
        worker_engine,
        WorkerOptions.from_settings(settings),
        client_factory=clients.job_client,
        clock=clock,
        chores=[
            resume_reservations_chore(reservations),
            scan_sessions_chore(  # scan-sessions: expire and prune sessions
                ScanSessionService(
                    worker_engine,
                    clients.client,
                    clients.mp_base,
                    clock=clock,
                    retention_days=settings.scan_session_retention_days,
                )
            ),
            code_lifecycle_chore(  # lifecycle: renewals and code.expiring
                _lifecycle(worker_engine, reservations, clients, settings, clock)
            ),
            rollups_chore(worker_engine),  # rollups: build missing, fold the queue
        ],
    )
    parts.webhook_dispatcher = delivery_worker(writer_url, settings)
    wake = worker.wake
    ingest.writer.on_commit = lambda results: wake() if any(r.inserted for r in results) else None


def _lifecycle(
    engine: Engine,
    codes: CodeService,
    clients: WeChatClients,
    settings: Settings,
    clock: Callable[[], float],
) -> CodeLifecycle:
    """lifecycle: the renewal chore's service, on the worker's engine."""
    images = CodeImages(engine, clients.client, clock=clock)
    return CodeLifecycle(
        engine,
        codes,
        quotas=QuotaService(engine, clients.client, clock=clock),
        warm=lambda code: images.image(code, ImageSpec()),
        clock=clock,
        default_lead_seconds=settings.renew_lead_seconds,
        expiring_notice_seconds=settings.expiring_notice_seconds,
    )
