"""The ingest service: what the webhook calls to record a push and learn its answer."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError

from wxqr.protocol import OpenedPush
from wxqr.service.accounts import sync_env_account
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.replies import choose_reply, render_answer
from wxqr.settings import EnvAccount
from wxqr.store import tables as t

from ._catalog import SceneCatalog
from ._directory import AccountDirectory, KnownAccount
from ._jobs import JobPolicy
from ._model import IncomingPush, IngestUnavailable, Recorded, incoming_push
from ._process import ProcessWriter
from ._wire import WriterConfig
from ._writer import GroupCommitWriter, Pending, PushWriter

__all__ = ["IngestOptions", "IngestService"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
# Store reads of the webhook (account lookups) run on their own few threads: a hung
# database then holds at most these, never the thread pool the API and dashboard use.
_LOOKUP_THREADS = 4
# With a cached (expired) account at hand, a refresh may take this share of the deadline
# before the cached one is used.
_REFRESH_SHARE = 0.25


@dataclass(frozen=True)
class IngestOptions:
    deadline_seconds: float = 4.0
    batch_max: int = 1000
    cache_ttl_seconds: float = 5.0
    store_raw_xml: bool = True
    fetch_user_info: bool = True
    # The replay guard remembers signed queries this long (the freshness window).
    signature_ttl_seconds: float = 86400.0


class IngestService:
    """Records pushes through a group-commit writer and renders the passive answers.

    ``engine`` serves reads (account lookups). The group-commit transactions run on
    ``writer_engine`` (default: ``engine``) in a thread of this process, or, when
    ``writer_process`` is given, in a child process with an engine of its own (see
    :mod:`._process`). Thread-safe; one per process is plenty.

    ``catalog_version`` is the composition root's
    :class:`~wxqr.service.catalog_version.CatalogVersion`, shared with the services that
    change scenes, channels and accounts: when they bump it, the cached accounts and
    scenes (here and in the writer) are read again at the next push. Without one the
    caches only expire after ``cache_ttl_seconds``.
    """

    def __init__(
        self,
        engine: Engine,
        options: IngestOptions | None = None,
        *,
        writer_engine: Engine | None = None,
        writer_process: WriterConfig | None = None,
        env_account: EnvAccount | None = None,
        catalog_version: CatalogVersion | None = None,
    ) -> None:
        self.options = options or IngestOptions()
        self._engine = engine
        self._env_account = env_account
        self._env_synced = env_account is None
        self.catalog_version = catalog_version or CatalogVersion()
        ttl = self.options.cache_ttl_seconds
        self.accounts = AccountDirectory(engine, self.catalog_version, ttl=ttl)
        self.catalog = SceneCatalog(self.catalog_version, ttl=ttl)
        self.writer: PushWriter
        if writer_process is not None:
            self.writer = ProcessWriter(
                writer_process, catalog_version=self.catalog_version, policy=self._policy
            )
        else:
            self.writer = GroupCommitWriter(
                writer_engine or engine,
                batch_max=self.options.batch_max,
                catalog=self.catalog,
                policy=self._policy,
                signature_ttl=self.options.signature_ttl_seconds,
            )
        self._learnt: set[int] = set()
        self._learn_lock = threading.Lock()
        self._lookup_threads: anyio.CapacityLimiter | None = None
        self._loading: dict[str | None, asyncio.Task[KnownAccount | None]] = {}

    def _policy(self) -> JobPolicy:
        return JobPolicy(self.accounts.wechat_account_ids(), self.options.fetch_user_info)

    def deadline(self) -> float:
        """The ``time.monotonic()`` by which a push arriving now must be answered."""
        return time.monotonic() + self.options.deadline_seconds

    async def account(
        self, appid: str | None, *, deadline: float | None = None
    ) -> KnownAccount | None:
        """The account of ``appid`` (None: the single-account install's account).

        That is the ``WXQR_APPID`` account when one is configured, else the only account.
        Answers by ``deadline`` whatever the store does (issue 14): a store that fails or
        does not answer in time gives the account as last read, else
        :class:`IngestUnavailable` (the webhook answers 503 and WeChat retries).
        """
        deadline = self.deadline() if deadline is None else deadline
        if not self._env_synced:
            try:
                await self._off_loop(self.sync_env_account, deadline)
            except (TimeoutError, SQLAlchemyError) as exc:
                log.warning("could not store the WXQR_APPID account yet: %s", type(exc).__name__)
        if appid is None and self._env_account is not None:
            appid = self._env_account.appid
        hit, known = self.accounts.cached(appid)
        if hit:
            return known
        stale = self.accounts.stale(appid)
        loading = self._loading.get(appid)
        if loading is not None and loading.get_loop() is not asyncio.get_running_loop():
            loading = None  # left by another event loop (tests run one per client)
        if loading is None:
            loading = asyncio.ensure_future(self._off_loop(self.accounts.load, deadline, appid))
            self._loading[appid] = loading
            loading.add_done_callback(lambda done: self._loaded(appid, done))
        elif stale is not None:
            return stale  # a refresh is already waiting on the store
        budget = deadline - time.monotonic()
        if stale is not None:
            budget *= _REFRESH_SHARE
        try:
            async with asyncio.timeout(max(budget, 0)):
                return await asyncio.shield(loading)
        except (TimeoutError, SQLAlchemyError) as exc:
            if stale is not None:
                log.warning("account %s served from cache: %s", appid, type(exc).__name__)
                return stale
            raise IngestUnavailable("the account could not be read in time") from None

    def _loaded(self, appid: str | None, done: asyncio.Task[KnownAccount | None]) -> None:
        if self._loading.get(appid) is done:
            del self._loading[appid]
        if not done.cancelled():
            done.exception()  # retrieved: a failed refresh is logged where it is awaited

    async def _off_loop(self, call: Callable[..., _T], deadline: float, *args: object) -> _T:
        """``call(*args)`` on a lookup thread, given up at ``deadline`` (TimeoutError;
        the thread is abandoned and finishes on its own)."""
        if self._lookup_threads is None:
            self._lookup_threads = anyio.CapacityLimiter(_LOOKUP_THREADS)
        with anyio.fail_after(max(deadline - time.monotonic(), 0)):
            return await anyio.to_thread.run_sync(
                call, *args, abandon_on_cancel=True, limiter=self._lookup_threads
            )

    def classify(
        self,
        known: KnownAccount,
        opened: OpenedPush,
        fingerprint: tuple[str, str] | None = None,
    ) -> IncomingPush:
        """The push as the event log will hold it (raises UnstorablePush, a MalformedPush).

        ``fingerprint``: :func:`~._model.signature_fingerprint` of the request, for the
        replay guard (None: not guarded)."""
        return incoming_push(
            known.account.id,
            opened,
            received_at=int(time.time() * 1000),
            keep_xml=self.options.store_raw_xml,
            fingerprint=fingerprint,
        )

    async def record(self, item: IncomingPush, *, deadline: float | None = None) -> Recorded:
        """Make ``item`` durable (group commit) by ``deadline`` (``time.monotonic()``;
        default: the push deadline from now); raises :class:`IngestUnavailable` in time,
        :class:`~._model.ReplayedSignature` for a forged body under a used query."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        deadline = self.deadline() if deadline is None else deadline
        self.writer.submit(Pending(item, deadline, loop, future))
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                return await future
        except TimeoutError:
            raise IngestUnavailable("the push was not durable before the deadline") from None

    async def handle(
        self,
        known: KnownAccount,
        opened: OpenedPush,
        *,
        fingerprint: tuple[str, str] | None = None,
        deadline: float | None = None,
    ) -> str:
        """Record ``opened`` exactly once and return the HTTP body that answers it."""
        deadline = self.deadline() if deadline is None else deadline
        item = self.classify(known, opened, fingerprint)
        recorded = await self.record(item, deadline=deadline)
        if known.account.original_id is None and known.account.id not in self._learnt:
            try:
                await self._off_loop(self._learn_original_id, deadline, known, item.to_user)
            except (TimeoutError, SQLAlchemyError) as exc:
                # The push is durable: answer it; the next push tries again.
                log.warning("could not store the original id: %s", type(exc).__name__)
        return self.answer(known, opened, item, recorded)

    @staticmethod
    def answer(
        known: KnownAccount, opened: OpenedPush, item: IncomingPush, recorded: Recorded
    ) -> str:
        info = recorded.scene_info
        reply = choose_reply(
            kind=item.kind,
            scene_reply=info.scene_reply if info else None,
            channel_reply=info.channel_reply if info else None,
            subscribe_reply=known.account.default_subscribe_reply,
        )
        return render_answer(
            reply,
            push=opened.push,
            scene=item.scene or "",
            keys=known.keys,
            encrypted=opened.encrypted,
        )

    def sync_env_account(self) -> None:
        """Store the account configured by ``WXQR_*`` variables (once; blocking)."""
        if self._env_account is not None and not self._env_synced:
            sync_env_account(self._engine, self._env_account, catalog=self.catalog_version)
            self._env_synced = True

    def _learn_original_id(self, known: KnownAccount, original_id: str) -> None:
        with self._learn_lock:
            if known.account.id in self._learnt:
                return
            self._learnt.add(known.account.id)
        a = t.accounts
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    update(a)
                    .where(a.c.id == known.account.id, a.c.original_id.is_(None))
                    .values(original_id=original_id)
                )
        except BaseException:
            with self._learn_lock:
                self._learnt.discard(known.account.id)
            raise
        self.accounts.forget()

    def close(self) -> None:
        """Stop the writer once what is queued is written (blocking; not on its loop)."""
        self.writer.close()

    async def aclose(self) -> None:
        """Stop the writer once what is queued is written (on the serving loop)."""
        await self.writer.aclose()
