"""The control API under ``/_emulator/``: simulated users and the emulator's knobs.

Errors answer HTTP 400 (bad input) or 404 (unknown account) with ``{"error": "..."}``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .accounts import account_from_json, account_to_json, update_account, verify_push_url
from .config import FaultConfig
from .faults import CONTROL_PREFIX
from .simulator import Simulator
from .state import EmulatorState
from .users import SCENE_SEARCH

__all__ = ["ControlError", "control_routes"]

Handler = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ControlError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(f"{name} must be a non-empty string")
    return value


def _number(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{name} must be a number")
    return float(value)


class Control:
    def __init__(self, state: EmulatorState, simulator: Simulator) -> None:
        self.state = state
        self.sim = simulator

    def _appid(self, value: str | None) -> str | None:
        if value is not None and value not in self.state.accounts:
            raise ControlError(f"unknown appid {value!r}", 404)
        if value is None and len(self.state.accounts) != 1:
            raise ControlError("this emulator hosts several accounts: give an appid")
        return value

    async def scan(self, request: Request) -> Response:
        data = await _body(request)
        openid = _text(data, "openid")
        ticket, url = _text(data, "ticket", required=False), _text(data, "url", required=False)
        if (ticket is None) == (url is None):
            raise ControlError("give either a ticket or a url")
        assert openid is not None
        result = await self.sim.scan(openid, ticket=ticket, url=url)
        return JSONResponse(result.to_json())

    async def follow(self, request: Request) -> Response:
        data = await _body(request)
        openid = _text(data, "openid")
        scene = _text(data, "subscribe_scene", required=False) or SCENE_SEARCH
        appid = self._appid(_text(data, "appid", required=False))
        assert openid is not None
        return JSONResponse((await self.sim.follow(appid, openid, scene)).to_json())

    async def unsubscribe(self, request: Request) -> Response:
        data = await _body(request)
        openid = _text(data, "openid")
        appid = self._appid(_text(data, "appid", required=False))
        assert openid is not None
        return JSONResponse((await self.sim.unsubscribe(appid, openid)).to_json())

    async def message(self, request: Request) -> Response:
        data = await _body(request)
        openid, content = _text(data, "openid"), _text(data, "content")
        appid = self._appid(_text(data, "appid", required=False))
        assert openid is not None
        assert content is not None
        return JSONResponse((await self.sim.message(appid, openid, content)).to_json())

    async def followers(self, request: Request) -> Response:
        appid = self._appid(request.query_params.get("appid"))
        account = self.state.account(appid)
        current_only = request.query_params.get("all", "") not in ("1", "true")
        users = self.state.followers.followers(account.appid, current_only=current_only)
        return JSONResponse({"appid": account.appid, "followers": [u.to_json() for u in users]})

    async def pushes(self, request: Request) -> Response:
        appid = request.query_params.get("appid")
        openid = request.query_params.get("openid")
        items = [
            p.to_json()
            for p in self.state.pushes
            if (appid is None or p.appid == appid) and (openid is None or p.openid == openid)
        ]
        return JSONResponse({"pushes": items})

    async def codes(self, request: Request) -> Response:
        appid = request.query_params.get("appid")
        now = self.state.clock.now()
        items = [
            {**c.to_json(), "expires_at": c.expires_at, "expired": c.expired(now)}
            for c in self.state.codes.codes(appid)
        ]
        return JSONResponse({"codes": items})

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"reset": True})

    async def calls(self, request: Request) -> Response:
        path = request.query_params.get("path")
        if path is not None:
            return JSONResponse({"path": path, "count": self.state.calls.get(path, 0)})
        return JSONResponse({"calls": dict(self.state.calls)})

    async def clock(self, request: Request) -> Response:
        clock = self.state.clock
        if request.method == "POST":
            data = await _body(request)
            advance, target = _number(data, "advance"), _number(data, "set")
            if (advance is None) == (target is None):
                raise ControlError("give either advance (seconds) or set (Unix time)")
            try:
                clock.advance(advance) if advance is not None else clock.set(target or 0.0)
            except ValueError as exc:
                raise ControlError(str(exc)) from None
            self.state.dirty = True
        return JSONResponse({"now": clock.now(), "offset": clock.offset})

    async def faults(self, request: Request) -> Response:
        if request.method == "POST":
            data = await _body(request)
            if "paths" in data:
                data["paths"] = tuple(data["paths"] or ())
            try:
                self.state.faults = FaultConfig(**data)
            except (TypeError, ValueError) as exc:
                raise ControlError(str(exc)) from None
        faults = dataclasses.asdict(self.state.faults)
        faults["paths"] = list(faults["paths"])
        return JSONResponse(faults)

    async def config(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.state.settings.update(await _body(request))
            except ValueError as exc:
                raise ControlError(str(exc)) from None
        return JSONResponse(self.state.settings.to_json())

    async def accounts(self, request: Request) -> Response:
        if request.method == "POST":
            data = await _body(request)
            try:
                account = account_from_json(data)
            except (TypeError, ValueError, KeyError) as exc:
                raise ControlError(f"bad account: {exc}") from None
            if account.appid in self.state.accounts:
                raise ControlError(f"appid {account.appid!r} exists", 409)
            self.state.replace_account(account)
            return JSONResponse(account_to_json(account))
        items = [account_to_json(a) for a in self.state.accounts.values()]
        return JSONResponse({"accounts": items})

    async def account(self, request: Request) -> Response:
        appid = request.path_params["appid"]
        if appid not in self.state.accounts:
            raise ControlError(f"unknown appid {appid!r}", 404)
        if request.method == "POST":
            try:
                changed = update_account(self.state.accounts[appid], await _body(request))
            except (TypeError, ValueError) as exc:
                raise ControlError(f"bad account: {exc}") from None
            self.state.replace_account(changed)
        return JSONResponse(account_to_json(self.state.accounts[appid]))

    async def verify(self, request: Request) -> Response:
        data = await _body(request)
        appid = self._appid(_text(data, "appid", required=False))
        account = self.state.account(appid)
        if not account.push_url:
            raise ControlError("the account has no push_url")
        result = await verify_push_url(self.sim.client, account, self.state.settings.push_timeout)
        return JSONResponse(result)


def _guard(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ControlError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except KeyError as exc:
            return JSONResponse({"error": str(exc.args[0])}, status_code=400)

    return endpoint


def control_routes(state: EmulatorState, simulator: Simulator) -> list[Route]:
    ctl = Control(state, simulator)
    post, get, both = ["POST"], ["GET"], ["GET", "POST"]
    table: list[tuple[str, Handler, list[str]]] = [
        ("/scan", ctl.scan, post),
        ("/follow", ctl.follow, post),
        ("/unsubscribe", ctl.unsubscribe, post),
        ("/message", ctl.message, post),
        ("/followers", ctl.followers, get),
        ("/pushes", ctl.pushes, get),
        ("/codes", ctl.codes, get),
        ("/reset", ctl.reset, post),
        ("/calls", ctl.calls, get),
        ("/clock", ctl.clock, both),
        ("/faults", ctl.faults, both),
        ("/config", ctl.config, both),
        ("/accounts", ctl.accounts, both),
        ("/accounts/{appid}", ctl.account, both),
        ("/verify", ctl.verify, post),
    ]
    return [
        Route(CONTROL_PREFIX + path, _guard(handler), methods=methods)
        for path, handler, methods in table
    ]
