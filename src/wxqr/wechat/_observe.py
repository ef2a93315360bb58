"""A process-wide observer of WeChat API calls (for metrics; the client stays storage-free).

Every API call made through :class:`~wxqr.wechat._http.WeChatHTTP` ends with one
notification ``observer(path, outcome)``: ``outcome`` is ``"0"`` for success, the
errcode WeChat answered (``"40001"``, ``"-1"``…) or ``"transport"`` / ``"unexpected"``
when no errcode could be read. The observer must be cheap and must not raise; it is
process-wide because the metrics registry it feeds is. ``None`` turns it off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["CallObserver", "notify_call", "observe_calls"]

CallObserver = Callable[[str, str], None]

_observer: list[CallObserver | None] = [None]
log = logging.getLogger(__name__)


def observe_calls(observer: CallObserver | None) -> None:
    """Send every later API call's ``(path, outcome)`` to ``observer`` (None: to nobody)."""
    _observer[0] = observer


def notify_call(path: str, outcome: str) -> None:
    observer = _observer[0]
    if observer is None:
        return
    try:
        observer(path, outcome)
    except Exception:  # an observer's bug must never fail a WeChat call
        log.exception("the WeChat call observer failed")
