"""The webhook WeChat pushes to: ``GET``/``POST /wechat/{appid}`` and ``/wechat``.

Status codes: 200 ``success`` or a passive reply once the push is durable; 403 a bad
signature, a stale timestamp, or a signed query already recorded with another body (a
forgery from a captured URL); 400 malformed, hostile or undecryptable XML; 404 an
unknown account; 405 another method; 408 a body that did not arrive in time; 413 a body
over the limit (refused before it is read whole); 503 the push could not be made
durable in time, or the account could not be read (WeChat retries). Every answer comes
within the push deadline (``WXQR_PUSH_DEADLINE_SECONDS``) whatever the database does.
Nothing is stored unless the answer is 200.

This is the hot path of the whole system (a QR code on a TV show brings thousands of
scans a second), so it is a plain ASGI application that the app factory puts in front of
FastAPI's routing and middleware (see ADR 0003): it reads the query string, the body and
the account cache directly, and sends its answer in two ASGI messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

from wxqr.protocol import (
    DecryptError,
    InvalidSignature,
    MalformedPush,
    PushQuery,
    StalePush,
    open_push,
    verify_signature,
)
from wxqr.service.ingest import (
    IngestService,
    IngestUnavailable,
    KnownAccount,
    ReplayedSignature,
    signature_fingerprint,
)

__all__ = [
    "BodyTooLarge",
    "BodyTooSlow",
    "ClientGone",
    "WebhookApp",
    "parse_query",
    "query_signed",
    "read_body",
    "read_body_by",
    "send_answer",
    "webhook_appid",
]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TEXT = b"text/plain; charset=utf-8"
_XML = b"application/xml; charset=utf-8"
_PREFIX = "/wechat"
_NOT_WEBHOOK = "\x00"


class BodyTooLarge(Exception):
    """The request body is larger than the configured limit."""


class BodyTooSlow(Exception):
    """The body did not arrive before the request's deadline (a slow client)."""


class ClientGone(Exception):
    """The client disconnected before the whole body arrived."""


def webhook_appid(path: str) -> str | None:
    """The appid a webhook path names: ``/wechat`` gives "" (the single account),
    ``/wechat/{appid}`` the appid, anything else None."""
    if not path.startswith(_PREFIX):
        return None
    rest = path[len(_PREFIX) :]
    if rest in ("", "/"):
        return ""
    if rest[0] != "/" or "/" in rest[1:].rstrip("/"):
        return None
    return rest[1:].rstrip("/") or ""


def parse_query(raw: bytes) -> dict[str, str]:
    """The query string as a dict (the last of repeated names wins, like Starlette's)."""
    params: dict[str, str] = {}
    if not raw:
        return params
    text = raw.decode("latin-1")
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            name, value = unquote_plus(name), unquote_plus(value)
        params[name] = value
    return params


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def read_body_by(scope: Scope, receive: Receive, limit: int, deadline: float) -> bytes:
    """:func:`read_body` given up at ``deadline`` (``time.monotonic()``) with
    :class:`BodyTooSlow`: uvicorn has no body timeout, and a client trickling its body
    must not hold a push's slot (issue 14)."""
    # asyncio's own timeout: a third of anyio.fail_after's cost, on every push.
    # (The event loop's clock is time.monotonic(), the deadline's.)
    try:
        async with asyncio.timeout_at(deadline):
            return await read_body(scope, receive, limit)
    except TimeoutError:
        raise BodyTooSlow from None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The body, read at most ``limit`` bytes far: a larger one raises :class:`BodyTooLarge`."""
    declared = _content_length(scope)
    if declared is not None and declared > limit:
        raise BodyTooLarge
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise BodyTooLarge
        return bytes(body)
    parts = bytearray(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        parts += message.get("body", b"")
        if len(parts) > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return bytes(parts)


def query_signed(token: str, params: Mapping[str, str]) -> bool:
    """Whether the query's ``signature`` is ``token``'s over its timestamp and nonce
    (constant-time; a missing parameter is a wrong signature)."""
    try:
        verify_signature(
            token,
            params.get("timestamp", ""),
            params.get("nonce", ""),
            params.get("signature", ""),
        )
    except InvalidSignature:
        return False
    return True


async def send_answer(
    send: Send, status: int, body: bytes, content_type: bytes = _TEXT, *, allow: bytes = b""
) -> None:
    """A whole response in two ASGI messages (text/plain unless told)."""
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
    headers.append((b"x-content-type-options", b"nosniff"))  # issue 14: echostr is caller-chosen
    if allow:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class WebhookApp:
    """The webhook as an ASGI application; ``fallback`` serves every other path."""

    def __init__(
        self,
        ingest: IngestService,
        fallback: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        max_age: float,
        max_body: int,
    ) -> None:
        self._ingest = ingest
        self._fallback = fallback
        self._max_age = max_age
        self._max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._fallback(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        appid = webhook_appid(path)
        if appid is None:
            await self._fallback(scope, receive, send)
            return
        try:
            await self._serve(scope, receive, send, appid or None)
        except Exception:
            log.exception("the webhook failed on %s %s", scope["method"], path)
            await send_answer(send, 500, b"internal error")

    async def _serve(self, scope: Scope, receive: Receive, send: Send, appid: str | None) -> None:
        method = scope["method"]
        if method not in ("GET", "POST"):
            await send_answer(send, 405, b"method not allowed", allow=b"GET, POST")
            return
        deadline = self._ingest.deadline()
        try:
            known = await self._ingest.account(appid, deadline=deadline)
        except IngestUnavailable as exc:
            log.warning("webhook for %s unavailable: %s", appid or "the account", exc)
            await send_answer(send, 503, b"try again")
            return
        if known is None:
            await send_answer(send, 404, b"unknown account")
            return
        params = parse_query(scope["query_string"])
        if method == "GET":
            await self._handshake(send, known, params)
            return
        query = PushQuery.from_params(params)
        keys = known.keys
        try:
            verify_signature(keys.token, query.timestamp, query.nonce, query.signature)
            body = await read_body_by(scope, receive, self._max_body, deadline)
            opened = open_push(body, query, keys, max_age=self._max_age, max_bytes=self._max_body)
            scope["wxqr.push"] = opened.push  # its kind and CreateTime for the metrics
            # The replay guard: the signature does not cover the body (issue 14).
            fingerprint = signature_fingerprint(
                query.timestamp, query.nonce, query.signature, opened.xml
            )
            answer = await self._ingest.handle(
                known, opened, fingerprint=fingerprint, deadline=deadline
            )
        except (InvalidSignature, StalePush, ReplayedSignature) as exc:
            log.info("refused a push for %s: %s", keys.appid, type(exc).__name__)
            await send_answer(send, 403, b"forbidden")
            return
        except BodyTooLarge:
            await send_answer(send, 413, b"body too large")
            return
        except BodyTooSlow:
            await send_answer(send, 408, b"request timeout")
            return
        except ClientGone:
            # WeChat gave up before sending the whole body: nothing was stored, it retries.
            await send_answer(send, 400, b"client disconnected")
            return
        except (MalformedPush, DecryptError) as exc:
            log.info("bad push for %s: %s", keys.appid, exc)
            await send_answer(send, 400, b"bad request")
            return
        except IngestUnavailable as exc:
            log.warning("push for %s not recorded in time: %s", keys.appid, exc)
            await send_answer(send, 503, b"try again")
            return
        if answer == "success":
            await send_answer(send, 200, b"success")
        else:
            await send_answer(send, 200, answer.encode("utf-8"), _XML)

    @staticmethod
    async def _handshake(send: Send, known: KnownAccount, params: dict[str, str]) -> None:
        echostr = params.get("echostr")
        if echostr is None:
            await send_answer(send, 400, b"echostr is missing")
            return
        if not query_signed(known.keys.token, params):
            await send_answer(send, 403, b"invalid signature")
            return
        await send_answer(send, 200, echostr.encode("utf-8"))
