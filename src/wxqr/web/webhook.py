"""The webhook WeChat pushes to: ``GET``/``POST /wechat/{appid}`` and ``/wechat``.

Status codes: 200 ``success`` or a passive reply once the push is durable; 403 a bad
signature or a stale timestamp; 400 malformed, hostile or undecryptable XML; 404 an
unknown account; 413 a body over the limit (refused before it is read whole); 503 the
push could not be made durable in time (WeChat retries). Nothing is stored unless the
answer is 200.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from wxqr.protocol import (
    DecryptError,
    InvalidSignature,
    MalformedPush,
    PushQuery,
    StalePush,
    open_push,
    verify_signature,
)
from wxqr.service.ingest import IngestService, IngestUnavailable, KnownAccount

__all__ = ["BodyTooLarge", "read_body", "webhook_routes"]

log = logging.getLogger(__name__)

_XML = "application/xml; charset=utf-8"


class BodyTooLarge(Exception):
    """The request body is larger than the configured limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read at most ``limit`` bytes far: a larger one raises :class:`BodyTooLarge`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise BodyTooLarge
        return await request.body()  # the server reads no more than Content-Length
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _text(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status)


class Webhook:
    """The endpoint functions, bound to one ingest service and its limits."""

    def __init__(self, ingest: IngestService, *, max_age: float, max_body: int) -> None:
        self._ingest = ingest
        self._max_age = max_age
        self._max_body = max_body

    async def _account(self, request: Request) -> KnownAccount | None:
        appid = request.path_params.get("appid")
        return await self._ingest.account(appid if isinstance(appid, str) else None)

    async def get(self, request: Request) -> Response:
        known = await self._account(request)
        if known is None:
            return _text(404, "unknown account")
        params = request.query_params
        echostr = params.get("echostr")
        if echostr is None:
            return _text(400, "echostr is missing")
        try:
            verify_signature(
                known.keys.token,
                params.get("timestamp", ""),
                params.get("nonce", ""),
                params.get("signature", ""),
            )
        except InvalidSignature:
            return _text(403, "invalid signature")
        return _text(200, echostr)

    async def post(self, request: Request) -> Response:
        known = await self._account(request)
        if known is None:
            return _text(404, "unknown account")
        query = PushQuery.from_params(request.query_params)
        keys = known.keys
        try:
            verify_signature(keys.token, query.timestamp, query.nonce, query.signature)
            body = await read_body(request, self._max_body)
            opened = open_push(body, query, keys, max_age=self._max_age, max_bytes=self._max_body)
            answer = await self._ingest.handle(known, opened)
        except (InvalidSignature, StalePush) as exc:
            log.info("refused a push for %s: %s", keys.appid, type(exc).__name__)
            return _text(403, "forbidden")
        except BodyTooLarge:
            return _text(413, "body too large")
        except ClientDisconnect:
            # WeChat gave up before sending the whole body: nothing was stored, it retries.
            return _text(400, "client disconnected")
        except (MalformedPush, DecryptError) as exc:
            log.info("bad push for %s: %s", keys.appid, exc)
            return _text(400, "bad request")
        except IngestUnavailable as exc:
            log.warning("push for %s not recorded in time: %s", keys.appid, exc)
            return _text(503, "try again")
        if answer == "success":
            return _text(200, answer)
        return Response(answer, status_code=200, media_type=_XML)


def webhook_routes(ingest: IngestService, *, max_age: float, max_body: int) -> list[Route]:
    """The four webhook routes (two paths, GET and POST)."""
    hook = Webhook(ingest, max_age=max_age, max_body=max_body)
    return [
        Route("/wechat/{appid}", hook.get, methods=["GET"], include_in_schema=False),
        Route("/wechat/{appid}", hook.post, methods=["POST"], include_in_schema=False),
        Route("/wechat", hook.get, methods=["GET"], include_in_schema=False),
        Route("/wechat", hook.post, methods=["POST"], include_in_schema=False),
    ]
