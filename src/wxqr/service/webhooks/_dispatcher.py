"""The delivery worker: a thread running an asyncio loop of concurrent httpx deliveries.

It claims due deliveries while it has room (``concurrency`` in flight), signs and sends
each, and records the finished ones in one transaction every few milliseconds. It never
touches the webhook's hot path: the outbox rows are its only input. ``wxqr serve`` starts
one beside the job worker; any number of processes and hosts may run one on a database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from wxqr.store.engines import make_writer_engine

from ._addresses import AddressPolicy
from ._claims import RETRY_SCHEDULE_SECONDS, Claimed, claim_due, prune, record_attempts
from ._outbox import fan_out
from ._sender import TIMEOUT_SECONDS, Attempt, send
from ._signing import signed_headers

__all__ = ["DispatcherOptions", "WebhookDispatcher"]

log = logging.getLogger(__name__)

_LANE_CONNECTIONS = 4


@dataclass(frozen=True)
class DispatcherOptions:
    concurrency: int = 64
    poll_seconds: float = 0.2
    # A claimed delivery not recorded within this time is taken again (its worker died).
    lease_seconds: float = TIMEOUT_SECONDS + 5.0
    timeout_seconds: float = TIMEOUT_SECONDS
    retention_seconds: float = 7 * 86400.0
    prune_every_seconds: float = 600.0
    # Seconds to wait after each failed attempt; after the last, the delivery is failed.
    retry_schedule: tuple[float, ...] = RETRY_SCHEDULE_SECONDS


class _Lanes:
    """Small connection pools ("lanes"), a few per endpoint host.

    Several small pools rather than one big one: httpcore scans every connection of a
    pool for each request it assigns, so one pool of 64 connections costs more CPU per
    delivery than the delivery. Per host, because requests go to the checked IP address
    (with the host's name as TLS server name): a pool keyed by address alone could reuse a
    TLS connection verified for another host name on the same address.
    """

    def __init__(self, options: DispatcherOptions) -> None:
        self._options = options
        self._per_host = max(1, options.concurrency // _LANE_CONNECTIONS)
        self._clients: dict[tuple[str, int], httpx.AsyncClient] = {}
        self._turn = 0

    def client_for(self, url: str) -> httpx.AsyncClient:
        self._turn += 1
        key = (httpx.URL(url).host, self._turn % self._per_host)
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                timeout=self._options.timeout_seconds,
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(
                    max_connections=_LANE_CONNECTIONS,
                    max_keepalive_connections=_LANE_CONNECTIONS,
                ),
            )
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


class WebhookDispatcher:
    """Delivers the outbox in a daemon thread (:meth:`start`, :meth:`stop`)."""

    def __init__(
        self,
        engine: Engine,
        policy: AddressPolicy,
        options: DispatcherOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.policy = policy
        self.options = options or DispatcherOptions()
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._own_engine = False
        self._last_prune = 0.0
        self.delivered = 0
        self.failed_attempts = 0

    @classmethod
    def for_database(
        cls,
        url: str,
        policy: AddressPolicy,
        options: DispatcherOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> WebhookDispatcher:
        """A dispatcher with an engine of its own (disposed by :meth:`stop`).

        On SQLite its transactions take the write lock first (like the ingest writer's)
        but commit with ``synchronous=NORMAL``: a lease or a "delivered" mark lost to a
        power cut only means one more delivery of the same message, which at-least-once
        allows, and the group commit does not wait behind an fsync of the worker's.
        """
        engine = make_writer_engine(url, synchronous="NORMAL")
        dispatcher = cls(engine, policy, options, clock=clock)
        dispatcher._own_engine = True
        return dispatcher

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="wxqr-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._own_engine:
            self._engine.dispose()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        lanes = _Lanes(self.options)
        try:
            await self._loop(lanes)
        finally:
            await lanes.aclose()

    async def _loop(self, lanes: _Lanes) -> None:
        inflight: set[asyncio.Task[tuple[Claimed, Attempt]]] = set()
        while not self._stop.is_set():
            claimed = await self._claim(self.options.concurrency - len(inflight))
            for item in claimed:
                client = lanes.client_for(item.url)
                inflight.add(asyncio.create_task(self._deliver(client, item)))
            if inflight:
                _done, _ = await asyncio.wait(
                    inflight,
                    timeout=self.options.poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                await asyncio.sleep(0.005)  # let more finish: one transaction for all
            else:
                await asyncio.sleep(self.options.poll_seconds)
            done = {task for task in inflight if task.done()}
            inflight -= done
            await self._record([task.result() for task in done])
            await self._maybe_prune()
        if inflight:  # stopping: let the ones in flight finish, briefly
            done, _pending = await asyncio.wait(inflight, timeout=2.0)
            await self._record([task.result() for task in done])

    async def _claim(self, room: int) -> list[Claimed]:
        if room <= 0:
            return []
        lease_ms = int(self.options.lease_seconds * 1000)

        def fan_out_and_claim() -> list[Claimed]:
            for _ in range(10):  # a backlog: most of it becomes deliveries before a claim
                if fan_out(self._engine) < 2000:
                    break
            return claim_due(self._engine, self._now_ms(), room, lease_ms)

        try:
            return await asyncio.to_thread(fan_out_and_claim)
        except Exception:  # the database may be away for a while: keep going
            log.exception("claiming webhook deliveries failed")
            await asyncio.sleep(self.options.poll_seconds)
            return []

    async def _deliver(self, client: httpx.AsyncClient, item: Claimed) -> tuple[Claimed, Attempt]:
        if item.message is None:
            return item, Attempt(False, None, "the event is no longer in the event log")
        body = item.message.body.encode()
        headers = signed_headers(item.secrets, item.message.id, int(self._clock()), body)
        attempt = await send(
            client, item.url, headers, body, self.policy, seconds=self.options.timeout_seconds
        )
        return item, attempt

    async def _record(self, outcomes: list[tuple[Claimed, Attempt]]) -> None:
        if not outcomes:
            return
        self.delivered += sum(1 for _, attempt in outcomes if attempt.ok)
        self.failed_attempts += sum(1 for _, attempt in outcomes if not attempt.ok)
        try:
            await asyncio.to_thread(
                record_attempts,
                self._engine,
                outcomes,
                self._now_ms(),
                self.options.retry_schedule,
            )
        except Exception:  # their leases end and they are sent again: at least once
            log.exception("recording %d webhook deliveries failed", len(outcomes))

    async def _maybe_prune(self) -> None:
        now = self._clock()
        if now - self._last_prune < self.options.prune_every_seconds:
            return
        self._last_prune = now
        retention_ms = int(self.options.retention_seconds * 1000)
        try:
            removed = await asyncio.to_thread(prune, self._engine, self._now_ms(), retention_ms)
        except Exception:
            log.exception("pruning webhook deliveries failed")
            return
        if removed:
            log.info("pruned %d old webhook deliveries", removed)
