"""The background worker's periodic chores (see :class:`wxqr.service.worker.Chore`)."""

from __future__ import annotations

import logging

from wxqr.service.codes import ABANDONED_AFTER_SECONDS, CodeService, ResumedReservations
from wxqr.service.worker import Chore

__all__ = ["RESUME_EVERY_SECONDS", "resume_reservations_chore"]

log = logging.getLogger(__name__)

RESUME_EVERY_SECONDS = 300.0


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
