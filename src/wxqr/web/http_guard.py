"""What ``wxqr serve``'s HTTP server does about slow and idle connections (issue 14).

uvicorn bounds neither how long a client may take to send a request's headers nor its
body, and its ``limit_concurrency`` answers 503 to *every* new request once the cap is
reached — pushes and ``/healthz`` included. 20,400 idle partial connections exhausted
the process's file descriptors. These protocol classes (uvicorn's own, with three rules
added) are what ``wxqr serve`` gives uvicorn as ``http=``:

1. **Header deadline.** A connection must deliver a whole request head within
   ``header_timeout`` seconds of opening (or of its first byte after a keep-alive
   pause), else it is closed.
2. **Body deadline.** Once the head is in, the body must arrive within
   ``body_timeout`` seconds, else the connection is closed (the application sees a
   disconnect). The webhook has its own, shorter deadline: the push deadline.
3. **Connection cap with eviction.** At most ``max_connections`` connections are kept.
   A new connection over the cap closes the *oldest* connection that is not being
   answered (still sending its request, or idle between keep-alive requests), so a
   flood of slow connections cannot keep a fresh push out; only when every connection
   is being answered is the new one closed instead.

Idle keep-alive connections keep uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from wxqr.settings import Settings

__all__ = [
    "GuardedH11Protocol",
    "GuardedHttpToolsProtocol",
    "HttpLimits",
    "guarded_protocol",
    "limits_from_settings",
]

log = logging.getLogger(__name__)

_IDLE, _HEAD, _BODY, _ANSWERING = "idle", "head", "body", "answering"


@dataclass(frozen=True)
class HttpLimits:
    """The limits of one server (``WXQR_HTTP_*``)."""

    max_connections: int = 4096
    header_timeout: float = 10.0
    body_timeout: float = 30.0


class _Guard:
    """The rules, mixed into a uvicorn protocol class (which supplies ``connections``,
    ``cycle``, ``transport``, ``loop`` and ``server_state``)."""

    limits: ClassVar[HttpLimits | None] = None

    connections: set[Any]
    cycle: Any
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    server_state: Any

    _wxqr_stage: str
    _wxqr_timer: asyncio.TimerHandle | None

    @classmethod
    def _wxqr_limits(cls) -> HttpLimits:
        if _Guard.limits is None:
            # A worker process of ``wxqr serve --workers N`` (spawned by uvicorn) reads
            # its settings itself, as its app does.
            from wxqr.settings import Settings

            _Guard.limits = limits_from_settings(Settings.from_env())
        return _Guard.limits

    def _wxqr_waiting(self) -> dict[Any, None]:
        """The server's connections not being answered, oldest first."""
        waiting: dict[Any, None] | None = getattr(self.server_state, "wxqr_waiting", None)
        if waiting is None:
            waiting = {}
            self.server_state.wxqr_waiting = waiting
        return waiting

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._wxqr_stage = _IDLE
        self._wxqr_timer = None
        self._wxqr_enter(_HEAD)
        self._wxqr_shed()

    def connection_lost(self, exc: Exception | None) -> None:
        self._wxqr_cancel()
        self._wxqr_waiting().pop(self, None)
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            self._wxqr_enter(_BODY if cycle.more_body else _ANSWERING)
        elif self._wxqr_stage == _IDLE:
            self._wxqr_enter(_HEAD)  # the first bytes of the next request

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._wxqr_enter(_IDLE)  # uvicorn's keep-alive timeout takes over

    def _wxqr_enter(self, stage: str) -> None:
        if stage == self._wxqr_stage:
            return
        self._wxqr_stage = stage
        self._wxqr_cancel()
        waiting = self._wxqr_waiting()
        if stage == _ANSWERING:
            waiting.pop(self, None)
            return
        waiting.setdefault(self, None)
        limits = self._wxqr_limits()
        if stage == _HEAD:
            self._wxqr_timer = self.loop.call_later(limits.header_timeout, self._wxqr_expire)
        elif stage == _BODY:
            self._wxqr_timer = self.loop.call_later(limits.body_timeout, self._wxqr_expire)

    def _wxqr_cancel(self) -> None:
        if self._wxqr_timer is not None:
            self._wxqr_timer.cancel()
            self._wxqr_timer = None

    def _wxqr_expire(self) -> None:
        self._wxqr_timer = None
        log.debug("closing a connection still sending its request (%s)", self._wxqr_stage)
        self._wxqr_close()

    def _wxqr_close(self) -> None:
        self._wxqr_waiting().pop(self, None)
        self._wxqr_cancel()
        if not self.transport.is_closing():
            self.transport.close()

    def _wxqr_shed(self) -> None:
        """Over the cap: close the oldest connections not being answered (not this one
        unless there is no other)."""
        excess = len(self.connections) - self._wxqr_limits().max_connections
        if excess <= 0:
            return
        waiting = self._wxqr_waiting()
        oldest = itertools.islice(iter(waiting), excess + 1)
        victims = [c for c in oldest if c is not self][:excess]
        for victim in victims:
            victim._wxqr_close()
        if len(victims) < excess:
            log.warning("connection cap reached with every connection being answered")
            self._wxqr_close()


class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
    """uvicorn's httptools protocol with wxqr's deadlines and connection cap."""


class GuardedH11Protocol(_Guard, H11Protocol):
    """uvicorn's h11 protocol with wxqr's deadlines and connection cap."""


def limits_from_settings(settings: Settings) -> HttpLimits:
    """The :class:`HttpLimits` of a :class:`~wxqr.settings.Settings`."""
    return HttpLimits(
        max_connections=settings.http_max_connections,
        header_timeout=settings.http_header_timeout_seconds,
        body_timeout=settings.http_body_timeout_seconds,
    )


def guarded_protocol(http: str, limits: HttpLimits) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http=`` option ("httptools" or "h11"),
    enforcing ``limits`` in this process."""
    _Guard.limits = limits
    return GuardedHttpToolsProtocol if http == "httptools" else GuardedH11Protocol
