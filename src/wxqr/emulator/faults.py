"""ASGI middleware in front of the WeChat API paths: counts calls and injects faults.

Faults (see :class:`~wxqr.emulator.config.FaultConfig`) apply only outside
``/_emulator/``: first the added latency, then a share of calls answering errcode -1
("system busy"), then a share of calls whose connection drops mid-answer (the server
promises a body and closes the connection without sending it).
"""

from __future__ import annotations

import asyncio
import json
import random

from starlette.types import ASGIApp, Receive, Scope, Send

from .config import FaultConfig
from .errors import error_body
from .state import EmulatorState

__all__ = ["CONTROL_PREFIX", "FaultMiddleware"]

CONTROL_PREFIX = "/_emulator"


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state
        self._faults: FaultConfig | None = None
        self._random = random.Random()

    def _rng(self) -> random.Random:
        faults = self.state.faults
        if faults is not self._faults:
            self._faults = faults
            self._random = random.Random(faults.seed)
        return self._random

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        state = self.state
        state.count_call(path)
        faults = state.faults
        if not faults.active or (faults.paths and not path.startswith(faults.paths)):
            await self.app(scope, receive, send)
            return
        rng = self._rng()
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if faults.busy_ratio > 0 and rng.random() < faults.busy_ratio:
            await _send_json(send, json.dumps(error_body(-1)).encode())
            return
        if faults.drop_ratio > 0 and rng.random() < faults.drop_ratio:
            await _drop(send)
            return
        await self.app(scope, receive, send)


async def _send_json(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    """Promise a body, send a fragment and stop: the server closes the connection."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"errc', "more_body": True})
