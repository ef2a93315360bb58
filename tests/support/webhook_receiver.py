"""A real local receiver of wxqr's webhooks for the tests: records every request.

It answers with ``status`` (changeable while it runs, or per request through ``answer``),
and can be stopped and started again on the same port ("down for a while").
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wxqr.emulator.testing import serve_app


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def verify(self, secret: str) -> dict[str, Any]:
        """Checked with the independent ``standardwebhooks`` package (raises if wrong)."""
        verified: dict[str, Any] = Webhook(secret).verify(self.body, self.headers)
        return verified


@dataclass
class Receiver:
    status: int = 200
    # Called with each request's document; returns the status to answer (None: status).
    answer: Callable[[dict[str, Any]], int | None] | None = None
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        item = Received({k.lower(): v for k, v in request.headers.items()}, body, time.time())
        with self._lock:
            self.received.append(item)
        status = self.status
        if self.answer is not None:
            chosen = self.answer(item.document)
            status = status if chosen is None else chosen
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        headers = {"location": self.url + "/elsewhere"} if 300 <= status < 400 else None
        return Response("ok" if status < 300 else "no", status_code=status, headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "GET"])])

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def of_type(self, kind: str) -> list[Received]:
        return [r for r in self.snapshot() if r.document["type"] == kind]

    def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 20.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.snapshot()
            if predicate(found):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met; got {len(found)} requests")
            time.sleep(0.05)


@contextmanager
def running_receiver(receiver: Receiver, port: int = 0) -> Iterator[Receiver]:
    with ExitStack() as stack:
        base = stack.enter_context(serve_app(receiver.app(), port=port))
        receiver.url = base
        yield receiver
