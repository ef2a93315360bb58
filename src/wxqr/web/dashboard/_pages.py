"""The dashboard's pages: login, channel list, channel page, new channel, images, exports.

Thin over the services: each handler parses, calls one service method, renders. No
database call runs on the event loop the webhook shares: handlers that touch the store
are plain ``def`` (FastAPI runs them in its thread pool) or, where the form must be read
asynchronously, hand the rest of their work to :func:`anyio.to_thread.run_sync`. Service
errors become error pages in one place (:mod:`._errors`).
"""

from __future__ import annotations

import logging
import math
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.i18n import LOCALES, N_
from wxqr.service.accounts import Account, UnknownAccount
from wxqr.service.channels import NewChannel
from wxqr.service.code_expiry import check_exportable, display_status
from wxqr.service.code_images import ImageFormat, ImageSpec
from wxqr.service.code_spec import parse_code_spec
from wxqr.service.errors import NotFoundError, ServiceError
from wxqr.service.login_throttle import login_key
from wxqr.service.replies import reply_from_input
from wxqr.service.stats import Granularity
from wxqr.service.stats.export import export_file
from wxqr.service.stats.retention import pooled_curve
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import AdminWS as WS
from wxqr.web.api._params import INT32_MAX
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._follower_views import KEY_DAYS, RETENTION_WEEKS, retention_json
from wxqr.web.dashboard._guard import (
    Editor,
    EditorPost,
    Posted,
    Viewer,
    ViewerFile,
    Visit,
    common,
    fields,
)
from wxqr.web.dashboard._session import (
    COOKIE,
    clear_session,
    session_of,
    set_session,
)
from wxqr.web.dashboard._templates import LANG_COOKIE, language_of, page
from wxqr.web.dashboard._views import channel_rows, chart_json, export_headers

log = logging.getLogger(__name__)

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

DateParam = Annotated[date | None, Query()]
FromParam = Annotated[date | None, Query(alias="from")]
# Channel ids are 32-bit database integers: a larger one would fail in the database.
ChannelIdPath = Annotated[int, Path(ge=1, le=INT32_MAX)]


def _pick_account(ws: Workspace, appid: str | None) -> Account | None:
    """The account named, else the first (the dashboard has a picker); None: no account."""
    try:
        return ws.account(appid, first_of_several=True)
    except UnknownAccount:
        if appid:
            raise
        return None


def _common(visit: Visit, account: Account | None) -> dict[str, Any]:
    return common(visit, account)


# -- login ---------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, ws: WS, next: str = "/dashboard/") -> Response:
    return page(
        request,
        "login.html",
        has_password=ws.admin.has_password(),
        next_url=next if next.startswith("/dashboard") else "/dashboard/",
    )


# A login without a user name is the user "admin" (one-admin installs keep working).
DEFAULT_USER = "admin"
_MAX_NAME = 200


@router.post("/login")
async def login(request: Request, ws: WS) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip()[:_MAX_NAME] or DEFAULT_USER
    password = str(form.get("password", ""))
    target = str(form.get("next", "/dashboard/"))
    if not target.startswith("/dashboard") or target.startswith("//"):
        target = "/dashboard/"
    # The connecting address: uvicorn replaces it by X-Forwarded-For only for the proxies
    # of WXQR_TRUSTED_PROXIES, so a client cannot pick its own throttle key.
    client = request.client.host if request.client else "unknown"
    if not ws.login_gate.try_enter():
        # Enough password checks are running already: answer now, check nothing, so a
        # flood of guesses costs the server (and the webhook beside it) next to nothing.
        busy = page(
            request,
            "login.html",
            status_code=503,
            has_password=True,
            next_url=target,
            user_name=name,
            error=N_("The server is busy checking other logins. Try again in a moment."),
        )
        busy.headers["Retry-After"] = "1"
        return busy
    try:
        # Password hashing and the user's row are store and CPU work: off the event loop.
        return await anyio.to_thread.run_sync(_login, request, ws, name, password, target, client)
    finally:
        ws.login_gate.leave()


def _login(
    request: Request, ws: Workspace, name: str, password: str, target: str, client: str
) -> Response:
    # Counted per (user name, client): one person's typos do not lock out the office
    # behind the same address, and another address does not unlock a guessed name.
    key = login_key(name, client)
    wait = ws.login_throttle.attempt(key)
    if wait is not None:
        # Refused before the password is looked at: guessing gets no answer either way.
        refused = page(
            request,
            "login.html",
            status_code=429,
            has_password=ws.admin.has_password(),
            next_url=target,
            user_name=name,
            error=N_(
                "Too many failed attempts. Try again in %(minutes)s min.",
                minutes=math.ceil(wait / 60),
            ),
        )
        refused.headers["Retry-After"] = str(math.ceil(wait))
        return refused
    done = ws.dashboard_users.login(name, password)
    if done is None:
        log.warning("failed dashboard login from %s", client)
        return page(
            request,
            "login.html",
            status_code=401,
            has_password=ws.admin.has_password(),
            next_url=target,
            user_name=name,
            error=N_("That user name or password is not right."),
        )
    ws.login_throttle.succeeded(key)
    user, token = done
    response = RedirectResponse(target, status_code=303)
    set_session(response, request, token)
    if user.language in LOCALES:  # the language this user chose last time
        response.set_cookie(
            LANG_COOKIE, user.language, max_age=365 * 86400, samesite="lax", path="/", httponly=True
        )
    return response


@router.post("/logout")
async def logout(request: Request, ws: WS) -> Response:
    form = await request.form()
    csrf = str(form.get("csrf", ""))
    return await anyio.to_thread.run_sync(_logout, request, ws, csrf)


def _logout(request: Request, ws: Workspace, csrf: str) -> Response:
    """Revoke the session (its cookie stops working everywhere), if the form's CSRF
    token is this session's: another site cannot log the user out."""
    session = session_of(request, ws)
    if session is not None:
        if not ws.admin.csrf_valid(session, csrf):
            return Response("invalid form token: reload the page", status_code=403)
        ws.admin.logout(session)
    response = RedirectResponse("/dashboard/login", status_code=303)
    clear_session(response)
    return response


# -- language ------------------------------------------------------------------------------
@router.get("/language")
def choose_language(
    request: Request, ws: WS, to: Annotated[str, Query(max_length=16)], next: str = "/dashboard/"
) -> Response:
    """The language switch: remembered in a cookie (a year) and, for a logged-in user,
    with the user (their next login, on any browser), then back to the page."""
    target = next if next.startswith("/dashboard") and not next.startswith("//") else "/dashboard/"
    response = RedirectResponse(target, status_code=303)
    if to in LOCALES:
        response.set_cookie(
            LANG_COOKIE, to, max_age=365 * 86400, samesite="lax", path="/", httponly=True
        )
        user = ws.dashboard_users.session_user(request.cookies.get(COOKIE))
        if user is not None:
            ws.dashboard_users.set_language(user.id, to)
    return response


# -- pages ---------------------------------------------------------------------------------
@router.get("")
def dashboard_root() -> Response:
    return RedirectResponse("/dashboard/", status_code=307)


@router.get("/channels")
def channel_list(
    request: Request,
    visit: Viewer,
    account: str | None = None,
    date_from: FromParam = None,
    to: DateParam = None,
    archived: bool = False,
) -> Response:
    ws = visit.ws
    acct = _pick_account(ws, account)
    if acct is None:
        return page(
            request,
            "base.html",
            **_common(visit, None),
            error=N_(
                "No account is configured yet: add one with %(command)s.",
                command="wxqr account add",
            ),
        )
    try:
        query = ws.stats.query(acct.id, date_from=date_from, date_to=to)
        view = channel_rows(ws, query, archived=archived)
    except ServiceError as exc:
        return error_page(request, exc, **_common(visit, acct))
    return page(
        request,
        "channels.html",
        **_common(visit, acct),
        view=view,
        date_from=query.date_from.isoformat(),
        date_to=query.date_to.isoformat(),
        today=ws.stats.today(acct.timezone).isoformat(),
        archived=archived,
        usage=ws.codes.permanent_usage(acct.id),
    )


@router.get("/channels/new")
def new_channel_form(
    request: Request,
    visit: Editor,
    account: str | None = None,
    scene: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The new-channel form; ``scene`` prefills it for an orphan scene made a channel."""
    ws = visit.ws
    acct = _pick_account(ws, account)
    if acct is None:
        return RedirectResponse("/dashboard/", status_code=303)
    return page(
        request,
        "new_channel.html",
        **_common(visit, acct),
        form=_prefilled(scene),
        usage=ws.codes.permanent_usage(acct.id),
    )


def _prefilled(scene: str | None) -> dict[str, str]:
    if not scene:
        return {"kind": "permanent", "scene_type": "id"}
    return {
        "kind": "permanent",
        "scene_type": "id" if scene.isdigit() else "str",
        "scene": scene,
        "name": scene,
    }


@router.post("/channels")
def create_channel(
    request: Request, visit: EditorPost, posted: Posted, account: str | None = None
) -> Response:
    ws, form = visit.ws, fields(posted)
    acct = _pick_account(ws, account)
    if acct is None:
        return RedirectResponse("/dashboard/", status_code=303)
    try:
        spec = NewChannel(
            name=form.get("name", ""),
            group=form.get("group") or None,
            tags=tuple(t.strip() for t in form.get("tags", "").split(",") if t.strip()),
            reply=reply_from_input(form.get("reply_text", "")),
        )
        kind = form.get("kind") or "permanent"
        code = parse_code_spec(
            kind,
            form.get("scene_type"),
            form.get("scene"),
            # The form always holds a number of days; it applies to temporary codes only.
            expire_days=form.get("expire_days") if kind.strip() == "temporary" else None,
        )
        created = ws.channel_codes.create(acct.id, spec, code)
    except ServiceError as exc:  # shown on the form, with what was typed
        return error_page(
            request,
            exc,
            **_common(visit, acct),
            form=form,
            usage=ws.codes.permanent_usage(acct.id),
            template="new_channel.html",
        )
    return RedirectResponse(f"/dashboard/channels/{created.channel.id}", status_code=303)


@router.get("/channels/{channel_id}")
def channel_page(
    request: Request,
    visit: Viewer,
    channel_id: ChannelIdPath,
    date_from: FromParam = None,
    to: DateParam = None,
) -> Response:
    return _channel_view(request, visit, channel_id, date_from, to)


def _current_kind(ws: Workspace, channel_id: int) -> str:
    """The kind of the channel's current code: what a new code defaults to."""
    current = ws.codes.current_code(channel_id)
    return current.kind.value if current is not None else "permanent"


def _confirm_switch(request: Request, visit: Visit, channel_id: int) -> Response:
    return _channel_view(
        request, visit, channel_id, None, None, status_code=409, confirm_switch=True
    )


def _channel_view(
    request: Request,
    visit: Visit,
    channel_id: int,
    date_from: date | None,
    to: date | None,
    *,
    status_code: int = 200,
    confirm_switch: bool = False,
) -> Response:
    ws = visit.ws
    try:
        channel = ws.channels.get(channel_id)
    except NotFoundError as exc:
        return error_page(request, exc, **_common(visit, None))
    acct = ws.account_of_channel(channel_id)
    try:
        query = ws.stats.query(
            acct.id,
            date_from=date_from,
            date_to=to,
            channels=[channel_id],
            granularity=Granularity.DAY,
        )
    except ServiceError as exc:
        return error_page(request, exc, **_common(visit, acct))
    points = ws.stats.series_of(query)
    total = ws.stats.summary_of(query)
    code = ws.codes.current_code(channel_id)
    # The followers it brought: weekly cohorts of the last twelve weeks, pooled.
    cohorts = ws.stats.query(
        acct.id, days=7 * RETENTION_WEEKS, channels=[channel_id], granularity=Granularity.WEEK
    )
    curve = pooled_curve(ws.insights.retention_of(cohorts, cohort=Granularity.WEEK))
    return page(
        request,
        "channel.html",
        status_code,
        **_common(visit, acct),
        confirm_switch=confirm_switch,
        channel=channel,
        code=code,
        code_status=display_status(code, ws.clock(), ws.settings.expiring_notice_seconds),
        renewal=ws.lifecycle.renewal(channel_id),  # lifecycle: the auto-renew switch
        points=points,
        total=total,
        chart_data=chart_json(points, language_of(request)),
        current_kind="temporary" if confirm_switch else (code.kind.value if code else "permanent"),
        date_from=query.date_from.isoformat(),
        date_to=query.date_to.isoformat(),
        timezone=acct.timezone,
        retention=curve,
        retention_keys=[p for p in curve if p.day in KEY_DAYS],
        retention_from=cohorts.date_from,
        retention_data=retention_json(curve, language_of(request)),
    )


@router.post("/channels/{channel_id}/codes")
def issue_code(
    request: Request, visit: EditorPost, posted: Posted, channel_id: ChannelIdPath
) -> Response:
    ws, form = visit.ws, fields(posted)
    kind = (form.get("kind") or "").strip() or _current_kind(ws, channel_id)
    if kind == "temporary" and form.get("confirm") != "1":
        current = ws.codes.current_code(channel_id)
        if current is not None and current.kind.value == "permanent":
            # A permanent code may be printed: replacing it by one that expires in 30
            # days is asked again, on the page, before anything is issued.
            return _confirm_switch(request, visit, channel_id)
    try:
        ws.codes.issue(channel_id, parse_code_spec(kind))
    except ServiceError as exc:
        return error_page(request, exc, **_common(visit, None))
    return RedirectResponse(f"/dashboard/channels/{channel_id}", status_code=303)


@router.get("/channels/{channel_id}/code.{fmt}")
def code_image(
    visit: ViewerFile,
    channel_id: ChannelIdPath,
    fmt: Literal["png", "svg"],
    download: bool = False,
    force: bool = False,
) -> Response:
    ws = visit.ws
    code = ws.codes.current_code(channel_id)
    if code is None:
        raise NotFoundError(f"channel {channel_id} has no code")
    if download:  # lifecycle: an expired code is downloaded only when asked for explicitly
        check_exportable(code, force, ws.clock())
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
    visit: Viewer,
    table: Literal["channels", "groups", "series", "summary"] = "channels",
    format: Literal["csv", "xlsx"] = "csv",
    account: str | None = None,
    channel_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    date_from: FromParam = None,
    to: DateParam = None,
    compare: Literal["previous_period", "previous_year"] | None = None,
    align: Literal["date", "weekday"] | None = None,
) -> Response:
    ws = visit.ws
    acct = ws.account_of_channel(channel_id) if channel_id else _pick_account(ws, account)
    if acct is None:
        return Response("no account", status_code=404)
    query = ws.stats.query(
        acct.id,
        date_from=date_from,
        date_to=to,
        channels=[channel_id] if channel_id else None,
        compare=compare,
        align=align,
    )
    lang = language_of(request)
    zone = query.timezone or acct.timezone
    file = export_file(
        ws.stats,
        query,
        table,
        format,
        headers=export_headers(lang),
        about=(
            lang.gettext("wxqr export: %(account)s") % {"account": acct.name or acct.appid},
            lang.gettext("Window: %(start)s – %(end)s, time zone %(timezone)s")
            % {
                "start": query.date_from.isoformat(),
                "end": query.date_to.isoformat(),
                "timezone": zone,
            },
        ),
        totals_label=lang.gettext("Total"),
    )
    return Response(
        file.content,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )
