"""Account settings and API keys in the browser.

The account: its name, time zone, the welcome reply to a plain follow, the encryption mode
and the credentials (token, AppSecret, EncodingAESKey) as write-only fields — a blank
field keeps the stored value, which is never sent back to the browser. API keys: create
one with its scope (this account or every account, read-only or not; the secret is shown
once), revoke, and see when each was last used. For admins only (the guard, :mod:`._guard`).
Thin over the service layer
(:func:`update_account`, :func:`set_default_subscribe_reply`, :class:`ApiKeyService`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from wxqr.i18n import N_, Msg
from wxqr.protocol import TextReply
from wxqr.service.accounts import (
    Account,
    set_default_subscribe_reply,
    update_account,
)
from wxqr.service.errors import ServiceError
from wxqr.service.replies import reply_from_input
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._guard import Admin, AdminPost, Posted, Visit, fields
from wxqr.web.dashboard._pages import _common, _pick_account
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

ENCRYPT_MODES = ("plain", "compatible", "safe")


def _account_form(acct: Account) -> dict[str, str]:
    reply = acct.default_subscribe_reply
    return {
        "name": acct.name or "",
        "timezone": acct.timezone,
        "encrypt_mode": acct.encrypt_mode.value,
        "welcome": reply.content if isinstance(reply, TextReply) else "",
    }


def _settings_page(
    request: Request,
    visit: Visit,
    acct: Account,
    *,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    notice: Msg | None = None,
    new_key: str | None = None,
    exc: ServiceError | None = None,
) -> Response:
    ws = visit.ws
    context: dict[str, Any] = {
        **_common(visit, acct),
        "form": form or _account_form(acct),
        "modes": ENCRYPT_MODES,
        "keys": ws.api_keys.list_keys(),
        "new_key": new_key,
        "notice": notice,
        "has_secret": acct.app_secret is not None,
        "has_aes_key": acct.aes_key is not None,
        "quota": ws.quotas.usage(acct),  # lifecycle: WeChat's daily quota, permanent cap
    }
    if exc is not None:
        return error_page(request, exc, template="settings.html", **context)
    return page(request, "settings.html", status_code, **context)


@router.get("/settings")
def settings_page(request: Request, visit: Admin, account: str | None = None) -> Response:
    acct = _pick_account(visit.ws, account)
    if acct is None:
        return page(request, "base.html", **_common(visit, None))
    return _settings_page(request, visit, acct)


def _account_of(visit: Visit, account: str | None) -> Account | Response:
    acct = _pick_account(visit.ws, account)
    return Response("no account", status_code=404) if acct is None else acct


@router.post("/settings/account")
def save_account(
    request: Request, visit: AdminPost, posted: Posted, account: str | None = None
) -> Response:
    ws, form = visit.ws, fields(posted)
    acct = _account_of(visit, account)
    if isinstance(acct, Response):
        return acct
    try:
        # Write-only credentials: a blank field keeps what is stored.
        update_account(
            ws.engine,
            acct.appid,
            catalog=ws.catalog,
            name=form.get("name", "").strip() or None,
            timezone=form.get("timezone", "").strip() or None,
            encrypt_mode=form.get("encrypt_mode") or None,
            token=form.get("token", "").strip() or None,
            app_secret=form.get("app_secret", "").strip() or None,
            aes_key=form.get("aes_key", "").strip() or None,
        )
        updated = set_default_subscribe_reply(
            ws.engine, acct.appid, reply_from_input(form.get("welcome", "")), catalog=ws.catalog
        )
    except ServiceError as exc:
        shown = {k: v for k, v in form.items() if k not in ("token", "app_secret", "aes_key")}
        return _settings_page(request, visit, acct, form=shown, exc=exc)
    return _settings_page(request, visit, updated, notice=N_("Saved."))


@router.post("/settings/keys")
def create_key(
    request: Request, visit: AdminPost, posted: Posted, account: str | None = None
) -> Response:
    form = fields(posted)
    acct = _account_of(visit, account)
    if isinstance(acct, Response):
        return acct
    try:
        created = visit.ws.api_keys.create(
            form.get("key_name", ""),
            accounts=None if form.get("scope") == "all" else [acct.appid],
            read_only=form.get("read_only") == "1",
        )
    except ServiceError as exc:
        return _settings_page(request, visit, acct, exc=exc)
    return _settings_page(
        request, visit, acct, new_key=created.secret, notice=N_("API key created.")
    )


@router.post("/settings/keys/revoke")
def revoke_key(
    request: Request, visit: AdminPost, posted: Posted, account: str | None = None
) -> Response:
    form = fields(posted)
    acct = _account_of(visit, account)
    if isinstance(acct, Response):
        return acct
    try:
        visit.ws.api_keys.revoke(form.get("key_name", ""))
    except ServiceError as exc:
        return _settings_page(request, visit, acct, exc=exc)
    return _settings_page(request, visit, acct, notice=N_("API key revoked."))
