"""The stats rollups: keeping them (fold, rebuild) and knowing when they can answer.

The ingest's only part is a database trigger that queues each counted event's id in
``stats_pending`` in the event's own transaction. :meth:`StatsRollups.catch_up` folds the
queue into the rollups under the rollup lock; the serve's background worker runs it every
second (:func:`rollups_chore`) and every stats query runs it before answering ("catch up,
then answer"), so an answer includes every push committed before it was asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from wxqr.service.worker import Chore
from wxqr.store.tables import accounts

from ._errors import UnknownAccount
from ._rollup_fold import (
    FOLD_BATCH,
    fold_pending,
    needs_fold,
    rebuild_account,
    unbuilt_accounts,
)
from ._rollup_lock import rollup_writer
from ._rollup_partial import rebuild_account_from

__all__ = [
    "FOLD_EVERY_SECONDS",
    "RebuildProgress",
    "RebuiltAccount",
    "StatsRollups",
    "rollups_chore",
]

log = logging.getLogger(__name__)

FOLD_EVERY_SECONDS = 1.0
_MAX_CATCH_UP_ROUNDS = 50

RebuildProgress = Callable[[int, int, int], None]  # (account id, events done, total)


@dataclass(frozen=True, slots=True)
class RebuiltAccount:
    account_id: int
    appid: str
    events: int


class StatsRollups:
    """Fold and rebuild the rollups of ``engine``'s accounts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def fold(self, limit: int = FOLD_BATCH) -> int:
        """Fold up to ``limit`` queued events; how many left the queue."""
        with rollup_writer(self._engine) as conn:
            return fold_pending(conn, limit)

    def catch_up(self) -> bool:
        """Fold the whole queue; False when the store could not (answer from the log).

        Nothing queued: no write lock is taken (a read answers that)."""
        try:
            with self._engine.connect() as conn:
                if not needs_fold(conn):
                    return True
            for _ in range(_MAX_CATCH_UP_ROUNDS):
                if self.fold() < FOLD_BATCH:
                    return True
        except DBAPIError as exc:
            log.warning("folding the stats queue failed: %s", type(exc).__name__)
        return False

    def rebuild(
        self,
        appid: str | None = None,
        *,
        progress: RebuildProgress | None = None,
        since: date | None = None,
    ) -> list[RebuiltAccount]:
        """Rebuild the rollups of one account (``appid``) or of all, from the log
        (``since``: only the days from that date, see :mod:`._rollup_partial`; an account
        without usable rollups is rebuilt whole).

        Idempotent, and safe while events arrive: each account is rebuilt in one snapshot
        under the rollup lock; events committed after it stay queued and are folded next.
        """
        with self._engine.connect() as conn:
            query = select(accounts.c.id, accounts.c.appid).order_by(accounts.c.id)
            if appid is not None:
                query = query.where(accounts.c.appid == appid)
            targets = [(int(i), str(a)) for i, a in conn.execute(query)]
        if appid is not None and not targets:
            raise UnknownAccount(f"no account with appid {appid!r}")
        done = []
        for account_id, account_appid in targets:
            report = None
            if progress is not None:
                report = _bind(progress, account_id)
            with rollup_writer(self._engine, snapshot=True) as conn:
                count = None
                if since is not None:
                    count = rebuild_account_from(conn, account_id, since, progress=report)
                if count is None:
                    count = rebuild_account(conn, account_id, progress=report)
            done.append(RebuiltAccount(account_id, account_appid, count))
        self.catch_up()
        return done

    def build_missing(self) -> int:
        """Rebuild the accounts whose rollups are missing or in an old zone; how many."""
        with self._engine.connect() as conn:
            missing = unbuilt_accounts(conn)
        for account_id in missing:
            with rollup_writer(self._engine, snapshot=True) as conn:
                rebuild_account(conn, account_id)
        return len(missing)


def _bind(progress: RebuildProgress, account_id: int) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        progress(account_id, done, total)

    return report


def rollups_chore(engine: Engine, *, every_seconds: float = FOLD_EVERY_SECONDS) -> Chore:
    """The background worker's part: build missing rollups, then fold the queue."""
    rollups = StatsRollups(engine)

    def run() -> bool:
        rollups.build_missing()
        return rollups.catch_up()

    return Chore("fold the stats rollups", every_seconds, run)
