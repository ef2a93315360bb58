"""What wraps every HTTP request: its request id, the webhook's metrics, the access log.

The request id is the client's ``X-Request-ID`` when it is a sane token (nginx sends its
``$request_id``), else a new random one; it is set in :data:`wxqr.logs.request_id` for
every log line the request causes and sent back in the answer's ``X-Request-ID``.
Webhook requests (``/wechat``…) are counted in :class:`~wxqr.web.metrics.WxqrMetrics`
by event kind (the webhook leaves the opened push in ``scope["wxqr.push"]``), HTTP status
and time. With ``WXQR_ACCESS_LOG=1`` each request also gets one log line.
This is plain ASGI, a few microseconds a request: it sits in front of the webhook's hot
path (ADR 0003).
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from wxqr.logs import request_id
from wxqr.web.metrics import WxqrMetrics
from wxqr.web.webhook import Message, Receive, Scope, Send, webhook_appid

__all__ = ["RequestObserver", "incoming_request_id"]

log = logging.getLogger("wxqr.access")

_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The client's ``X-Request-ID`` if it is 1-128 characters of ``[A-Za-z0-9._:-]``."""
    for name, value in headers:
        if name == b"x-request-id":
            return value.decode("ascii") if _SANE_ID.fullmatch(value) else None
    return None


class RequestObserver:
    """ASGI middleware: request id, webhook metrics, optional access log."""

    def __init__(
        self,
        app: object,
        *,
        metrics: WxqrMetrics | None,
        access_log: bool,
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)  # type: ignore[operator]
            return
        rid = incoming_request_id(scope["headers"]) or secrets.token_hex(8)
        header = (b"x-request-id", rid.encode("ascii"))
        token = request_id.set(rid)
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)  # type: ignore[operator]
        finally:
            elapsed = time.perf_counter() - started
            path = scope["path"]
            if self._metrics is not None and webhook_appid(path) is not None:
                self._metrics.observe_push(scope.get("wxqr.push"), status or 500, elapsed)
            if self._access_log:
                client = scope.get("client")
                log.info(
                    "%s %s %d",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "fields": {
                            "status": status,
                            "ms": round(elapsed * 1000, 2),
                            "client": client[0] if client else "",
                        }
                    },
                )
            request_id.reset(token)
