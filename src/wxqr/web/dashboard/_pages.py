"""The dashboard's pages: login, channel list, channel page, new channel, images, exports."""

from __future__ import annotations

import logging
import math
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.protocol import QRKind, TextReply
from wxqr.service.accounts import Account
from wxqr.service.channel_errors import InvalidInputError, NotFoundError, ServiceError
from wxqr.service.channels import NewChannel
from wxqr.service.code_images import ImageFormat, ImageSpec
from wxqr.service.codes import CodeSpec, SceneType
from wxqr.service.stats import Granularity, StatsError, Window
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import WS
from wxqr.web.api.stats import StatsScope, export_response, export_table
from wxqr.web.dashboard._session import (
    clear_session,
    login_redirect,
    session_of,
    set_session,
)
from wxqr.web.dashboard._templates import page
from wxqr.web.dashboard._views import channel_rows, chart_json

log = logging.getLogger(__name__)

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)

DateParam = Annotated[date | None, Query()]
FromParam = Annotated[date | None, Query(alias="from")]


def _pick_account(ws: Workspace, appid: str | None) -> Account | None:
    accounts = ws.accounts()
    if appid:
        return ws.account(appid)
    return accounts[0] if accounts else None


def _common(ws: Workspace, session: str, account: Account | None) -> dict[str, Any]:
    many = len(ws.accounts()) > 1
    return {
        "logged_in": True,
        "csrf": ws.admin.csrf_token(session),
        "accounts": ws.accounts(),
        "account": account,
        "account_query": f"?account={quote(account.appid)}" if account and many else "",
    }


# -- login ---------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, ws: WS, next: str = "/dashboard/") -> Response:
    return page(
        request,
        "login.html",
        has_password=ws.admin.has_password(),
        next_url=next if next.startswith("/dashboard") else "/dashboard/",
    )


@router.post("/login")
async def login(request: Request, ws: WS) -> Response:
    form = await request.form()
    password = str(form.get("password", ""))
    target = str(form.get("next", "/dashboard/"))
    if not target.startswith("/dashboard") or target.startswith("//"):
        target = "/dashboard/"
    client = request.client.host if request.client else "unknown"
    wait = ws.login_throttle.attempt(client)
    if wait is not None:
        # Refused before the password is looked at: guessing gets no answer either way.
        refused = page(
            request,
            "login.html",
            status_code=429,
            has_password=ws.admin.has_password(),
            next_url=target,
            error=f"Too many failed attempts. Try again in {math.ceil(wait / 60)} min.",
        )
        refused.headers["Retry-After"] = str(math.ceil(wait))
        return refused
    token = await anyio.to_thread.run_sync(ws.admin.login, password)
    if token is None:
        log.warning("failed dashboard login from %s", client)
        return page(
            request,
            "login.html",
            status_code=401,
            has_password=ws.admin.has_password(),
            next_url=target,
            error="That password is not right.",
        )
    ws.login_throttle.succeeded(client)
    response = RedirectResponse(target, status_code=303)
    set_session(response, request, token)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    clear_session(response)
    return response


# -- pages ---------------------------------------------------------------------------------
@router.get("")
def dashboard_root() -> Response:
    return RedirectResponse("/dashboard/", status_code=307)


@router.get("/")
def channel_list(
    request: Request,
    ws: WS,
    account: str | None = None,
    date_from: FromParam = None,
    to: DateParam = None,
    archived: bool = False,
) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    acct = _pick_account(ws, account)
    if acct is None:
        return page(
            request,
            "base.html",
            **_common(ws, session, None),
            error="No account is configured yet: add one with `wxqr account add`.",
        )
    try:
        start, end = ws.recent_dates(acct, date_from, to)
        view = channel_rows(ws, acct, start, end, archived=archived)
    except (ServiceError, StatsError) as exc:
        return page(request, "base.html", 422, **_common(ws, session, acct), error=str(exc))
    return page(
        request,
        "channels.html",
        **_common(ws, session, acct),
        view=view,
        date_from=start.isoformat(),
        date_to=end.isoformat(),
        today=ws.today(acct).isoformat(),
        archived=archived,
        usage=ws.codes.permanent_usage(acct.id),
    )


@router.get("/channels/new")
def new_channel_form(request: Request, ws: WS, account: str | None = None) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    acct = _pick_account(ws, account)
    if acct is None:
        return RedirectResponse("/dashboard/", status_code=303)
    return page(
        request,
        "new_channel.html",
        **_common(ws, session, acct),
        form={"kind": "permanent", "scene_type": "id"},
        usage=ws.codes.permanent_usage(acct.id),
    )


def _code_spec(form: dict[str, str]) -> CodeSpec:
    kind = QRKind(form.get("kind") or "permanent")
    scene_type = SceneType(form.get("scene_type") or "id")
    scene = form.get("scene", "").strip() or None
    expire = None
    if kind is QRKind.TEMPORARY:
        days = form.get("expire_days", "").strip() or "30"
        if not days.isdigit() or not 1 <= int(days) <= 30:
            raise InvalidInputError("a temporary code expires after 1..30 days")
        expire = int(days) * 86_400
    return CodeSpec(kind=kind, scene_type=scene_type, scene=scene, expire_seconds=expire)


@router.post("/channels")
async def create_channel(request: Request, ws: WS, account: str | None = None) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    raw = await request.form()
    form = {key: str(value) for key, value in raw.items()}
    if not ws.admin.csrf_valid(session, form.get("csrf", "")):
        return Response("invalid form token: reload the page", status_code=403)
    acct = _pick_account(ws, account)
    if acct is None:
        return RedirectResponse("/dashboard/", status_code=303)

    def work() -> int:
        reply_text = form.get("reply_text", "").strip()
        spec = NewChannel(
            name=form.get("name", ""),
            group=form.get("group") or None,
            tags=tuple(t.strip() for t in form.get("tags", "").split(",") if t.strip()),
            reply=TextReply(reply_text) if reply_text else None,
        )
        code_spec = _code_spec(form)
        channel = ws.channels.create(acct.id, spec)
        try:
            ws.codes.issue(channel.id, code_spec)
        except Exception:
            ws.channels.discard_unused(channel.id)
            raise
        return channel.id

    try:
        channel_id = await anyio.to_thread.run_sync(work)
    except (ServiceError, ValueError) as exc:
        return page(
            request,
            "new_channel.html",
            status_code=422,
            **_common(ws, session, acct),
            form=form,
            usage=ws.codes.permanent_usage(acct.id),
            error=str(exc),
        )
    return RedirectResponse(f"/dashboard/channels/{channel_id}", status_code=303)


@router.get("/channels/{channel_id}")
def channel_page(
    request: Request,
    ws: WS,
    channel_id: int,
    date_from: FromParam = None,
    to: DateParam = None,
) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    try:
        channel = ws.channels.get(channel_id)
    except NotFoundError as exc:
        return page(request, "base.html", 404, **_common(ws, session, None), error=str(exc))
    acct = ws.account_of_channel(channel_id)
    try:
        start, end = ws.recent_dates(acct, date_from, to)
        window = Window.from_dates(start, end, acct.timezone)
    except (ServiceError, StatsError) as exc:
        return page(request, "base.html", 422, **_common(ws, session, acct), error=str(exc))
    points = ws.stats.series(acct.id, window, Granularity.DAY, channel_ids=[channel_id])
    total = ws.stats.summary(acct.id, window, channel_ids=[channel_id])
    code = ws.codes.current_code(channel_id)
    return page(
        request,
        "channel.html",
        **_common(ws, session, acct),
        channel=channel,
        code=code,
        code_status=code.status(ws.clock()).value if code else "no code",
        points=points,
        total=total,
        chart_data=chart_json(points),
        date_from=start.isoformat(),
        date_to=end.isoformat(),
        timezone=acct.timezone,
    )


@router.post("/channels/{channel_id}/codes")
async def issue_code(request: Request, ws: WS, channel_id: int) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    if not ws.admin.csrf_valid(session, form.get("csrf", "")):
        return Response("invalid form token: reload the page", status_code=403)
    try:
        spec = _code_spec({"kind": form.get("kind", "temporary")})
        await anyio.to_thread.run_sync(ws.codes.issue, channel_id, spec)
    except ServiceError as exc:
        return page(request, "base.html", 422, **_common(ws, session, None), error=str(exc))
    return RedirectResponse(f"/dashboard/channels/{channel_id}", status_code=303)


@router.get("/channels/{channel_id}/code.{fmt}")
def code_image(
    request: Request, ws: WS, channel_id: int, fmt: Literal["png", "svg"], download: bool = False
) -> Response:
    if session_of(request, ws) is None:
        return Response(status_code=401)
    code = ws.codes.current_code(channel_id)
    if code is None:
        return Response("no code", status_code=404)
    image = ws.images.image(code, ImageSpec(format=ImageFormat(fmt), scale=12))
    name = f"{ws.channels.get(channel_id).name}.{image.extension}"
    disposition = "attachment" if download else "inline"
    return Response(
        image.content,
        media_type=image.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/export")
def export(
    request: Request,
    ws: WS,
    table: Literal["channels", "groups", "series", "summary"] = "channels",
    format: Literal["csv", "xlsx"] = "csv",
    account: str | None = None,
    channel_id: int | None = None,
    date_from: FromParam = None,
    to: DateParam = None,
) -> Response:
    if session_of(request, ws) is None:
        return login_redirect(request)
    acct = ws.account_of_channel(channel_id) if channel_id else _pick_account(ws, account)
    if acct is None:
        return Response("no account", status_code=404)
    start, end = ws.recent_dates(acct, date_from, to)
    window = Window.from_dates(start, end, acct.timezone)
    ids = [channel_id] if channel_id else None
    scope = StatsScope(acct, start, end, window, ids, None)
    stem = f"wxqr-{table}" + (f"-channel{channel_id}" if channel_id else "")
    return export_response(export_table(ws, scope, table, "day"), format, f"{stem}-{start}-{end}")
