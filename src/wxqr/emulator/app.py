"""The emulator's app factory: WeChat API paths, the control API, faults and persistence."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from .config import EmulatorConfig
from .control import control_routes
from .faults import FaultMiddleware
from .persistence import load_state, save_state
from .simulator import Simulator
from .state import EmulatorState
from .wechat_api import wechat_routes

__all__ = ["create_emulator_app"]

log = logging.getLogger("wxqr.emulator")

_FLUSH_EVERY = 1.0


def _flush(state: EmulatorState) -> None:
    path = state.config.state_path
    if path and state.dirty:
        state.dirty = False
        save_state(state, path)


async def _flush_loop(state: EmulatorState) -> None:
    while True:
        await asyncio.sleep(_FLUSH_EVERY)
        try:
            _flush(state)
        except OSError:
            log.exception("could not save the emulator state")


def create_emulator_app(config: EmulatorConfig | None = None) -> Starlette:
    """An ASGI app that serves WeChat's API (api.weixin.qq.com and mp.weixin.qq.com
    paths) and the control API under ``/_emulator/``.

    ``app.state.emulator`` is the live :class:`EmulatorState`. With
    ``config.state_path`` the state is loaded now and saved while the app runs (needs
    the ASGI lifespan, which uvicorn runs) and when it stops.
    """
    config = config or EmulatorConfig()
    state = EmulatorState(config)
    if config.state_path:
        load_state(state, config.state_path)
    simulator = Simulator(state)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_loop(state)) if config.state_path else None
        try:
            yield
        finally:
            if flusher is not None:
                flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flusher
            state.dirty = state.dirty or bool(config.state_path)
            _flush(state)
            await simulator.aclose()

    app = Starlette(
        routes=[*wechat_routes(state), *control_routes(state, simulator)],
        middleware=[Middleware(FaultMiddleware, state=state)],
        lifespan=lifespan,
    )
    app.state.emulator = state
    return app
