"""The background worker's periodic chores (see :class:`wxqr.service.worker.Chore`)."""

from __future__ import annotations

import logging

from wxqr.service.code_lifecycle import CodeLifecycle, LifecycleRun
from wxqr.service.codes import ABANDONED_AFTER_SECONDS, CodeService, ResumedReservations
from wxqr.service.scan_sessions import ScanSessionService
from wxqr.service.worker import Chore

__all__ = [
    "LIFECYCLE_EVERY_SECONDS",
    "RESUME_EVERY_SECONDS",
    "SWEEP_SESSIONS_EVERY_SECONDS",
    "code_lifecycle_chore",
    "resume_reservations_chore",
    "scan_sessions_chore",
]

log = logging.getLogger(__name__)

RESUME_EVERY_SECONDS = 300.0
SWEEP_SESSIONS_EVERY_SECONDS = 1.0
LIFECYCLE_EVERY_SECONDS = 60.0


def resume_reservations_chore(
    codes: CodeService,
    *,
    every_seconds: float = RESUME_EVERY_SECONDS,
    older_than_seconds: float = ABANDONED_AFTER_SECONDS,
) -> Chore:
    """Finish the code reservations a dead process left pending (every few minutes)."""

    def run() -> ResumedReservations:
        done = codes.resume_abandoned(older_than_seconds)
        if done.issued or done.released:
            log.warning(
                "code reservations left pending by a stopped process: %d issued (%s), "
                "%d refused by WeChat and released (%s)",
                len(done.issued),
                done.issued,
                len(done.released),
                done.released,
            )
        if done.left:
            log.info("code reservations still pending (WeChat not reachable): %s", done.left)
        return done

    return Chore("finish abandoned code reservations", every_seconds, run)


def scan_sessions_chore(
    sessions: ScanSessionService, *, every_seconds: float = SWEEP_SESSIONS_EVERY_SECONDS
) -> Chore:
    """Expire pending scan sessions past their expiry (``scan_session.expired``), and
    prune finished ones older than the retention (docs/scan-sessions.md)."""

    def run() -> tuple[int, int]:
        return sessions.sweep_expired(), sessions.prune()

    return Chore("expire and prune scan sessions", every_seconds, run)


def code_lifecycle_chore(
    lifecycle: CodeLifecycle, *, every_seconds: float = LIFECYCLE_EVERY_SECONDS
) -> Chore:
    """lifecycle: renew auto-renew channels' temporary codes before they expire, and send
    ``code.expiring`` for the others (docs/codes.md)."""

    def run() -> LifecycleRun:
        done = lifecycle.run_due()
        if done.renewed:
            log.info("renewed temporary codes (old -> new): %s", done.renewed)
        return done

    return Chore("renew temporary codes, announce expiring ones", every_seconds, run)
