"""The background worker: jobs that need WeChat, fed from the ``jobs`` table.

The ingest path enqueues jobs in the same transaction as the push (so none is lost) and
never waits for them. The worker claims due jobs (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's write lock elsewhere), runs them through :mod:`wxqr.wechat` and
marks them ``done``, or puts them back with exponential backoff, ``failed`` after
``max_attempts`` — or at once when WeChat's error is permanent (``WeChatError.permanent``:
an unknown openid, a wrong appid…), since the same call would fail again. A job left
``running`` by a dead process is taken again after ``lease_seconds``. Several processes may
run workers on one database.

Jobs (:class:`wxqr.service.jobs.JobKind`): ``tag_follower`` {openid, tags} applies the
channel's follower tags (creating missing tags; followers of one tag are tagged in one
call); ``user_info`` {openid} stores WeChat's subscribe_scene and QR scene on the follower
row.

Chores are the worker's periodic work besides jobs (``wxqr serve`` gives it one: finishing
code reservations a dead process left pending); each runs every ``every_seconds``, its
errors logged and tried again next time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, update

from wxqr.service.accounts import Account, get_account_by_id
from wxqr.service.jobs import JobKind
from wxqr.service.wechat_clients import WeChatClients
from wxqr.store import tables as t
from wxqr.wechat import APIError, SyncWeChatClient, UserInfo, WeChatError

if TYPE_CHECKING:
    from wxqr.settings import Settings

__all__ = ["Chore", "ClientFactory", "JobWorker", "WorkerOptions", "default_client_factory"]

log = logging.getLogger(__name__)

_TAG_NAME_EXISTS = 45157


@dataclass(frozen=True)
class WorkerOptions:
    poll_seconds: float = 1.0
    max_attempts: int = 8
    backoff_base: float = 5.0
    backoff_max: float = 3600.0
    claim_size: int = 200
    lease_seconds: float = 300.0
    keep_done_seconds: float = 7 * 86400.0
    api_base: str | None = None
    mp_base: str | None = None
    redis_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerOptions:
        return cls(
            poll_seconds=settings.worker_poll_seconds,
            max_attempts=settings.job_max_attempts,
            api_base=settings.wechat_api_base,
            mp_base=settings.wechat_mp_base,
            redis_url=settings.redis_url,
        )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before the next try after ``attempts`` tries."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** max(0, attempts - 1)))


ClientFactory = Callable[[Account], SyncWeChatClient]


def default_client_factory(engine: Engine, options: WorkerOptions) -> ClientFactory:
    """Clients of a :class:`~wxqr.service.wechat_clients.WeChatClients` for ``options``
    (a worker built outside :mod:`wxqr.runtime`; ``wxqr serve`` passes the runtime's)."""
    clients = WeChatClients(
        engine, api_base=options.api_base, mp_base=options.mp_base, redis_url=options.redis_url
    )
    return clients.job_client


@dataclass(frozen=True, slots=True)
class Chore:
    """Periodic work of the worker: ``run()`` every ``every_seconds`` (the first time
    ``every_seconds`` after start)."""

    name: str
    every_seconds: float
    run: Callable[[], object]


@dataclass(frozen=True, slots=True)
class _Job:
    id: int
    account_id: int
    kind: str
    payload: Mapping[str, Any]
    attempts: int


class JobWorker:
    """Runs due jobs in a daemon thread (or step by step with :meth:`run_once`)."""

    def __init__(
        self,
        engine: Engine,
        options: WorkerOptions | None = None,
        *,
        client_factory: ClientFactory | None = None,
        clock: Callable[[], float] = time.time,
        chores: Sequence[Chore] = (),
    ) -> None:
        self._engine = engine
        self.options = options or WorkerOptions()
        self._factory = client_factory or default_client_factory(engine, self.options)
        self._clock = clock
        self._clients: dict[int, SyncWeChatClient] = {}
        self._tag_ids: dict[tuple[int, str], int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0
        self._chores = tuple(chores)
        self._give_up: set[int] = set()  # issue 14: jobs that met a permanent WeChat error
        started = clock()
        self._chores_due = [started + chore.every_seconds for chore in self._chores]

    @property
    def chores(self) -> tuple[Chore, ...]:
        return self._chores

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="wxqr-worker", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look for due jobs now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.run_once()
            except Exception:  # the database may be away for a while: keep going
                log.exception("job worker pass failed")
                done = 0
            self.run_chores()
            if done == 0:
                self._wake.wait(self.options.poll_seconds)
                self._wake.clear()

    # -- one pass ----------------------------------------------------------------------

    def run_chores(self) -> list[str]:
        """Run the chores that are due; return their names (a failing one is logged)."""
        now = self._clock()
        ran: list[str] = []
        for index, chore in enumerate(self._chores):
            if now < self._chores_due[index]:
                continue
            self._chores_due[index] = now + chore.every_seconds
            ran.append(chore.name)
            try:
                outcome = chore.run()
            except Exception:
                log.exception(
                    "chore %r failed; trying again in %.0f s", chore.name, chore.every_seconds
                )
                continue
            log.debug("chore %r: %s", chore.name, outcome)
        return ran

    def run_once(self) -> int:
        """Claim and run the jobs due now; return how many were run."""
        now = self._clock()
        jobs = self._claim(now)
        if not jobs:
            self._purge(now)
            return 0
        by_account: dict[int, list[_Job]] = {}
        for job in jobs:
            by_account.setdefault(job.account_id, []).append(job)
        for account_id, account_jobs in by_account.items():
            outcomes = self._run_account(account_id, account_jobs)
            self._finish(account_jobs, outcomes)
        return len(jobs)

    def _claim(self, now: float) -> list[_Job]:
        j = t.jobs
        stamp = int(now)
        due = (j.c.status == "pending") & (j.c.run_after <= stamp)
        stale = (j.c.status == "running") & (j.c.updated_at < stamp - self.options.lease_seconds)
        query = (
            select(j.c.id, j.c.account_id, j.c.kind, j.c.payload, j.c.attempts)
            .where(due | stale)
            .order_by(j.c.run_after, j.c.id)
            .limit(self.options.claim_size)
            .with_for_update(skip_locked=True)
        )
        with self._engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return []
            conn.execute(
                update(j)
                .where(j.c.id.in_([row.id for row in rows]))
                .values(status="running", attempts=j.c.attempts + 1, updated_at=stamp)
            )
        return [
            _Job(row.id, row.account_id, row.kind, row.payload or {}, row.attempts + 1)
            for row in rows
        ]

    def _client(self, account_id: int) -> SyncWeChatClient:
        client = self._clients.get(account_id)
        if client is None:
            account = get_account_by_id(self._engine, account_id)
            if account is None:
                raise WeChatError("the account no longer exists")
            client = self._factory(account)
            self._clients[account_id] = client
        return client

    def _run_account(self, account_id: int, jobs: list[_Job]) -> dict[int, str | None]:
        """Run one account's jobs; job id -> None (done) or the error text."""
        try:
            client = self._client(account_id)
        except WeChatError as exc:
            return {job.id: _describe(exc) for job in jobs}
        outcomes: dict[int, str | None] = {}
        tag_jobs = [job for job in jobs if job.kind == JobKind.TAG_FOLLOWER]
        outcomes.update(self._run_tag_jobs(account_id, client, tag_jobs))
        for job in jobs:
            if job.kind == JobKind.USER_INFO:
                outcomes[job.id] = self._run_user_info(account_id, client, job)
            elif job.kind != JobKind.TAG_FOLLOWER:
                outcomes[job.id] = f"unknown job kind {job.kind!r}"
        return outcomes

    def _tag_id(self, account_id: int, client: SyncWeChatClient, name: str) -> int:
        key = (account_id, name)
        if key not in self._tag_ids:
            for tag in client.list_tags():
                self._tag_ids[(account_id, tag.name)] = tag.id
        if key not in self._tag_ids:
            try:
                self._tag_ids[key] = client.create_tag(name).id
            except APIError as exc:
                if exc.errcode != _TAG_NAME_EXISTS:
                    raise
                for tag in client.list_tags():
                    self._tag_ids[(account_id, tag.name)] = tag.id
        return self._tag_ids[key]

    def _run_tag_jobs(
        self, account_id: int, client: SyncWeChatClient, jobs: list[_Job]
    ) -> dict[int, str | None]:
        members: dict[str, list[_Job]] = {}
        for job in jobs:
            for name in job.payload.get("tags") or []:
                members.setdefault(str(name), []).append(job)
        outcomes: dict[int, str | None] = {job.id: None for job in jobs}
        for name, tagged in members.items():
            try:
                tag_id = self._tag_id(account_id, client, name)
                openids = sorted({str(job.payload.get("openid", "")) for job in tagged})
                client.batch_tag(openids, tag_id)
            except (WeChatError, KeyError, ValueError) as exc:
                self._tag_ids.pop((account_id, name), None)
                if isinstance(exc, WeChatError) and exc.permanent and len(tagged) == 1:
                    self._give_up.add(tagged[0].id)  # issue 14: alone, so it is this job's
                for job in tagged:
                    outcomes[job.id] = _describe(exc)
        return outcomes

    def _run_user_info(self, account_id: int, client: SyncWeChatClient, job: _Job) -> str | None:
        openid = str(job.payload.get("openid", ""))
        try:
            info = client.user_info(openid)
        except (WeChatError, ValueError) as exc:
            if isinstance(exc, WeChatError) and exc.permanent:  # issue 14: never retried
                self._give_up.add(job.id)
            return _describe(exc)
        self._store_user_info(account_id, info)
        return None

    def _store_user_info(self, account_id: int, info: UserInfo) -> None:
        """Keep what user/info said, only while the user follows: WeChat's rule is to
        delete a user's information on unfollow (the ingest writer erases it then), so
        an answer that arrives after an unfollow, or describes one, is not kept."""
        f = t.followers
        if not info.subscribed:
            return
        qr_scene = info.qr_scene_str or (str(info.qr_scene) if info.qr_scene else None)
        with self._engine.begin() as conn:
            conn.execute(
                update(f)
                .where(
                    f.c.account_id == account_id,
                    f.c.openid == info.openid,
                    f.c.following.is_(True),
                )
                .values(
                    wechat_subscribe_scene=(info.subscribe_scene or None),
                    wechat_qr_scene=(qr_scene[:64] if qr_scene else None),
                    user_info_at=int(self._clock()),
                )
            )

    def _finish(self, jobs: list[_Job], outcomes: Mapping[int, str | None]) -> None:
        j = t.jobs
        now = int(self._clock())
        with self._engine.begin() as conn:
            for job in jobs:
                error = outcomes.get(job.id)
                if error is None:
                    values: dict[str, Any] = {"status": "done", "last_error": None}
                elif job.attempts >= self.options.max_attempts or job.id in self._give_up:
                    values = {"status": "failed", "last_error": error}
                    log.warning("job %d (%s) failed for good: %s", job.id, job.kind, error)
                else:
                    delay = self.options.backoff(job.attempts)
                    values = {
                        "status": "pending",
                        "last_error": error,
                        "run_after": now + max(1, int(delay)),
                    }
                conn.execute(update(j).where(j.c.id == job.id).values(updated_at=now, **values))
        self._give_up.difference_update(job.id for job in jobs)

    def _purge(self, now: float) -> None:
        if now - self._last_purge < 3600:
            return
        self._last_purge = now
        j = t.jobs
        cutoff = int(now - self.options.keep_done_seconds)
        with self._engine.begin() as conn:
            conn.execute(j.delete().where(j.c.status == "done", j.c.updated_at < cutoff))


def _describe(exc: BaseException) -> str:
    """An error text for ``jobs.last_error`` (WeChat errors never carry secrets)."""
    return f"{type(exc).__name__}: {exc}"[:500]
