"""The WeChat API paths: same methods, JSON shapes and errcodes as api.weixin.qq.com
(and ``showqrcode`` of mp.weixin.qq.com)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .config import AccountConfig
from .datacube import user_cumulate, user_summary
from .errors import WeChatError, error_body
from .image import render_jpeg
from .qrcreate import parse_create
from .state import EmulatorState

__all__ = ["wechat_routes"]

Handler = Callable[[Request], Awaitable[Any]]

_SECRET_MISMATCH = {"classic": 40001, "stable": 40125}


def _json_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise WeChatError(44002)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WeChatError(47001) from None
    if not isinstance(data, dict):
        raise WeChatError(47001)
    return data


def _credentials(
    state: EmulatorState, grant_type: object, appid: object, secret: object, kind: str
) -> AccountConfig:
    if grant_type != "client_credential":
        raise WeChatError(40002)
    if not isinstance(appid, str) or not appid:
        raise WeChatError(41002)
    if not isinstance(secret, str) or not secret:
        raise WeChatError(41004)
    account = state.accounts.get(appid)
    if account is None:
        raise WeChatError(40013)
    if secret != account.secret:
        raise WeChatError(_SECRET_MISMATCH[kind])
    return account


class WeChatAPI:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def _authorize(self, request: Request) -> str:
        """The appid behind the request's access_token, after the daily quota."""
        state = self.state
        appid = state.tokens.check(request.query_params.get("access_token"), state.clock.now())
        state.take_quota(appid, request.url.path)
        return appid

    async def token(self, request: Request) -> Response:
        params = request.query_params
        state = self.state
        account = _credentials(
            state, params.get("grant_type"), params.get("appid"), params.get("secret"), "classic"
        )
        state.take_quota(account.appid, request.url.path)
        state.dirty = True
        issued = state.tokens.issue_classic(
            account.appid, state.clock.now(), state.settings.token_rules
        )
        return JSONResponse(issued.to_json())

    async def stable_token(self, request: Request) -> Response:
        data = _json_body(await request.body())
        state = self.state
        account = _credentials(
            state, data.get("grant_type"), data.get("appid"), data.get("secret"), "stable"
        )
        state.take_quota(account.appid, request.url.path)
        state.dirty = True
        issued = state.tokens.issue_stable(
            account.appid,
            state.clock.now(),
            state.settings.token_rules,
            force_refresh=data.get("force_refresh") is True,
        )
        return JSONResponse(issued.to_json())

    async def qrcode_create(self, request: Request) -> Response:
        """A new ticket. Only calls that issue one count against the daily quota (45009
        once it is used up), so ``quota/get`` says how many codes were made today."""
        state = self.state
        path = request.url.path
        appid = state.tokens.check(request.query_params.get("access_token"), state.clock.now())
        state.check_quota(appid, path)
        create = parse_create(await request.body())
        created = state.codes.create(
            appid, create, state.clock.now_int(), state.settings.permanent_limit
        )
        state.take_quota(appid, path)
        state.dirty = True
        return JSONResponse(created.to_json())

    async def quota_get(self, request: Request) -> Response:
        """``openapi/quota/get``: an API's daily limit, today's use and what remains
        (76021 for a path without a daily limit); asking costs no quota."""
        appid = self.state.tokens.check(
            request.query_params.get("access_token"), self.state.clock.now()
        )
        data = _json_body(await request.body())
        cgi_path = data.get("cgi_path")
        if not isinstance(cgi_path, str) or not cgi_path.startswith("/"):
            raise WeChatError(40097, "invalid args: cgi_path")
        limit = self.state.daily_limit(cgi_path)
        if limit is None:
            raise WeChatError(76021)
        used = min(limit, self.state.quota_used(appid, cgi_path))
        quota = {"daily_limit": limit, "used": used, "remain": limit - used}
        return JSONResponse({"errcode": 0, "errmsg": "ok", "quota": quota})

    async def showqrcode(self, request: Request) -> Response:
        ticket = request.query_params.get("ticket", "")
        code = self.state.codes.by_ticket(ticket) if ticket else None
        if code is None or code.expired(self.state.clock.now()):
            body = json.dumps(error_body(40097, "invalid ticket"), ensure_ascii=False)
            return Response(body, media_type="text/plain")
        return Response(render_jpeg(code.url), media_type="image/jpg")

    async def user_info(self, request: Request) -> Response:
        appid = self._authorize(request)
        openid = request.query_params.get("openid", "")
        user = self.state.followers.get(appid, openid) if openid else None
        if user is None:
            raise WeChatError(40003)
        return JSONResponse(user.info(request.query_params.get("lang", "zh_CN")))

    async def tags_create(self, request: Request) -> Response:
        appid = self._authorize(request)
        data = _json_body(await request.body())
        tag = data.get("tag")
        name = tag.get("name") if isinstance(tag, dict) else None
        created = self.state.tags.create(appid, name)
        self.state.dirty = True
        return JSONResponse({"tag": {"id": created.id, "name": created.name}})

    async def tags_get(self, request: Request) -> Response:
        appid = self._authorize(request)
        return JSONResponse({"tags": self.state.tags.listing(appid, self.state.followers)})

    async def _members(self, request: Request, *, add: bool) -> Response:
        appid = self._authorize(request)
        data = _json_body(await request.body())
        self.state.tags.members(
            appid, data.get("openid_list"), data.get("tagid"), self.state.followers, add=add
        )
        self.state.dirty = True
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def batch_tagging(self, request: Request) -> Response:
        return await self._members(request, add=True)

    async def batch_untagging(self, request: Request) -> Response:
        return await self._members(request, add=False)

    async def user_summary(self, request: Request) -> Response:
        appid = self._authorize(request)
        data = _json_body(await request.body())
        rows = user_summary(
            data.get("begin_date"),
            data.get("end_date"),
            self.state.followers.history(appid),
            self.state.clock.now(),
        )
        return JSONResponse({"list": rows})

    async def user_cumulate(self, request: Request) -> Response:
        appid = self._authorize(request)
        data = _json_body(await request.body())
        rows = user_cumulate(
            data.get("begin_date"),
            data.get("end_date"),
            self.state.followers.history(appid),
            self.state.clock.now(),
        )
        return JSONResponse({"list": rows})

    async def clear_quota(self, request: Request) -> Response:
        appid = self.state.tokens.check(
            request.query_params.get("access_token"), self.state.clock.now()
        )
        data = _json_body(await request.body())
        if data.get("appid") != appid:
            raise WeChatError(40013)
        self.state.clear_quota(appid)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})


def _endpoint(handler: Handler, method: str) -> Callable[[Request], Awaitable[Response]]:
    wrong_method = 43001 if method == "GET" else 43002

    async def endpoint(request: Request) -> Response:
        if request.method not in (method, "HEAD" if method == "GET" else method):
            return JSONResponse(error_body(wrong_method))
        try:
            response: Response = await handler(request)
        except WeChatError as exc:
            return JSONResponse(exc.body())
        return response

    return endpoint


def wechat_routes(state: EmulatorState) -> list[Route]:
    api = WeChatAPI(state)
    table: list[tuple[str, Handler, str]] = [
        ("/cgi-bin/token", api.token, "GET"),
        ("/cgi-bin/stable_token", api.stable_token, "POST"),
        ("/cgi-bin/qrcode/create", api.qrcode_create, "POST"),
        ("/cgi-bin/showqrcode", api.showqrcode, "GET"),
        ("/cgi-bin/user/info", api.user_info, "GET"),
        ("/cgi-bin/tags/create", api.tags_create, "POST"),
        ("/cgi-bin/tags/get", api.tags_get, "GET"),
        ("/cgi-bin/tags/members/batchtagging", api.batch_tagging, "POST"),
        ("/cgi-bin/tags/members/batchuntagging", api.batch_untagging, "POST"),
        ("/datacube/getusersummary", api.user_summary, "POST"),
        ("/datacube/getusercumulate", api.user_cumulate, "POST"),
        ("/cgi-bin/clear_quota", api.clear_quota, "POST"),
        ("/cgi-bin/openapi/quota/get", api.quota_get, "POST"),  # lifecycle:
    ]
    return [
        Route(path, _endpoint(handler, method), methods=["GET", "POST"])
        for path, handler, method in table
    ]
