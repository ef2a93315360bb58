"""Bounded request bodies, and the API key checked before any body is read.

FastAPI reads and parses a request's whole body before any dependency runs, so without
this middleware an unauthenticated client could make the server buffer hundreds of
megabytes (and a 300 MiB invalid JSON body got a 422 before its missing key got a 401).
:class:`RequestBounds` sits in front of every route but the webhook (which bounds its own
bodies, :mod:`wxqr.web.webhook`) and, in this order:

1. for guarded paths (the REST API's data endpoints), asks ``key_check`` whether the
   request's API key is acceptable, from its headers alone; a refusal is sent at once,
   and the body is never read;
2. refuses a declared ``Content-Length`` above the path's limit with 413 before reading;
3. counts a body's bytes as they arrive (chunked bodies declare no length): the moment
   the count passes the limit, reading stops and the client gets 413, whatever the
   route was doing with the part it had.

Limits: ``WXQR_API_MAX_BODY_BYTES`` (1 MiB) everywhere, ``WXQR_IMPORT_MAX_BODY_BYTES``
(10 MiB) for the CSV import paths. See docs/security.md, "Request bounds".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyTooLarge", "KeyCheck", "RequestBounds", "too_large"]

#: Decides whether a guarded request may go on: ``None`` to let it, or the response that
#: refuses it. Called with the request's ASGI scope, before its body is read.
KeyCheck = Callable[[Scope], Awaitable[Response | None]]

PROBLEM_JSON = "application/problem+json"
_TOO_LARGE_TYPE = "https://github.com/wxqr/wxqr/blob/main/docs/api.md#problem-too-large"


class BodyTooLarge(Exception):
    """Raised inside a route's body read when the body passed its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


def too_large(path: str, limit: int) -> Response:
    """The 413 problem document for a body over ``limit`` bytes."""
    body: dict[str, Any] = {
        "type": _TOO_LARGE_TYPE,
        "title": "Request too large",
        "status": 413,
        "detail": f"the request body is larger than the {limit} bytes allowed here",
        "instance": path,
    }
    # The unread rest of the body is dropped: the connection cannot be reused.
    return JSONResponse(body, 413, media_type=PROBLEM_JSON, headers={"Connection": "close"})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class RequestBounds:
    """ASGI middleware: the key check before the body, and a streaming body limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        import_max_body: int,
        import_paths: Collection[str] = (),
        guarded_prefix: str | None = None,
        public_paths: Collection[str] = (),
        public_patterns: Collection[re.Pattern[str]] = (),  # scan-sessions: poll URLs
        key_check: KeyCheck | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.import_max_body = import_max_body
        self.import_paths = frozenset(import_paths)
        self.guarded_prefix = guarded_prefix
        self.public_paths = frozenset(public_paths)
        self.public_patterns = tuple(public_patterns)
        self.key_check = key_check

    def limit_for(self, path: str) -> int:
        """The body limit of ``path``: the import's for the import paths, else the API's."""
        return self.import_max_body if path in self.import_paths else self.max_body

    def guarded(self, path: str) -> bool:
        """Whether ``path`` needs its key checked before its body is read."""
        prefix = self.guarded_prefix
        if prefix is None or self.key_check is None or path in self.public_paths:
            return False
        if any(pattern.match(path) for pattern in self.public_patterns):
            return False
        return path == prefix or path.startswith(prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if self.guarded(path) and self.key_check is not None:
            refusal = await self.key_check(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        limit = self.limit_for(path)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await too_large(path, limit)(scope, receive, send)
            return
        await self._bounded(scope, receive, send, limit)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        exceeded = False
        app_started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:  # a route that goes on reading after the error
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if exceeded and not app_started:
                return  # whatever the route made of the error, the answer is 413
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if app_started:
                raise
        if exceeded and not app_started:
            await too_large(scope["path"], limit)(scope, receive, send)
