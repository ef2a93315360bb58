"""SIGTERM as a clean stop for ``wxqr serve``.

uvicorn catches SIGTERM, shuts down gracefully (stops accepting, finishes the requests in
flight, runs the app's shutdown, which drains the ingest writer) and then raises the
signal again with the handler that was there before it started. Without a handler of
ours that would kill the process with SIGTERM (exit status 143 / -15) before the runtime
is closed; with it the stop ends as a normal exit, status 0, after the runtime closed.
"""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["exit_cleanly_on_sigterm"]


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM outside uvicorn's own handling a ``SystemExit(0)`` (main thread only)."""
    signal.signal(signal.SIGTERM, _exit)
