"""A tiny real push receiver for the emulator's tests: verifies, records and answers.

Each incoming push is verified and opened with the protocol core, recorded, and answered
with the next scripted behaviour (the last one repeats).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from wxqr.emulator.testing import serve_app
from wxqr.protocol import (
    AccountKeys,
    OpenedPush,
    PushQuery,
    TextReply,
    open_push,
    render_reply,
    seal_reply,
)


@dataclass(frozen=True)
class Answer:
    """How to answer one push: wait ``delay`` s, then ``status`` with ``body`` or a
    reply text ("{scene}" style fields are not expanded; use ``reply``)."""

    body: str = "success"
    status: int = 200
    delay: float = 0.0
    reply: str | None = None
    encrypt_reply: bool | None = None  # None: encrypt when the account is encrypted


@dataclass
class Received:
    query: PushQuery
    body: bytes
    opened: OpenedPush | None
    error: str | None


@dataclass
class Receiver:
    keys: AccountKeys
    script: list[Answer] = field(default_factory=lambda: [Answer()])
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def answer_with(self, *answers: Answer) -> None:
        self.script = list(answers)

    def _next(self) -> Answer:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def handle(self, request: Request) -> Response:
        query = PushQuery.from_params(request.query_params)
        body = await request.body()
        answer = self._next()
        try:
            opened: OpenedPush | None = open_push(body, query, self.keys)
            error = None
        except Exception as exc:  # recorded for the test to assert on
            opened, error = None, f"{type(exc).__name__}: {exc}"
        self.received.append(Received(query, body, opened, error))
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.reply is not None and opened is not None:
            push = opened.push
            xml = render_reply(
                TextReply(answer.reply),
                to_user=push.from_user,
                from_user=push.to_user,
                create_time=push.create_time,
            )
            encrypt = answer.encrypt_reply
            if encrypt is None:
                encrypt = opened.encrypted
            if encrypt:
                xml = seal_reply(xml, self.keys, timestamp=query.timestamp, nonce=query.nonce)
            return Response(xml, media_type="application/xml")
        return PlainTextResponse(answer.body, status_code=answer.status)

    async def verify(self, request: Request) -> Response:
        from wxqr.protocol import verify_url

        query = PushQuery.from_params(request.query_params)
        try:
            echo = verify_url(self.keys.token, query, request.query_params.get("echostr", ""))
        except Exception:
            return PlainTextResponse("bad signature", status_code=403)
        return PlainTextResponse(echo)


@contextmanager
def running_receiver(
    keys: AccountKeys, script: Sequence[Answer] = (Answer(),)
) -> Iterator[Receiver]:
    receiver = Receiver(keys, list(script))
    app = Starlette(
        routes=[
            Route("/wechat", receiver.handle, methods=["POST"]),
            Route("/wechat", receiver.verify, methods=["GET"]),
        ]
    )
    with serve_app(app) as base_url:
        receiver.url = base_url + "/wechat"
        yield receiver
