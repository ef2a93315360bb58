"""The dashboard's webhook pages: add, test, enable/disable, remove endpoints, and look at
their recent deliveries (with retry). The signing secret is shown once, on creation.

Pages that read the database are plain ``def`` (FastAPI runs them in its thread pool);
form handlers read the form on the loop and do the database work in a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.i18n import N_, Msg
from wxqr.service.errors import NotFoundError, ServiceError
from wxqr.service.webhooks import SUBSCRIBABLE_EVENT_TYPES, WebhookService
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import AdminWS as WS
from wxqr.web.dashboard._session import login_redirect, session_of
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard/webhooks", include_in_schema=False)

_T = TypeVar("_T")
_RECENT = 50


def _service(ws: Workspace) -> WebhookService:
    return ws.webhooks


def _common(ws: Workspace, session: str) -> dict[str, Any]:
    return {
        "logged_in": True,
        "csrf": ws.admin.csrf_token(session),
        "accounts": ws.accounts(),
        "account": None,
        "account_query": "",
        "event_types": SUBSCRIBABLE_EVENT_TYPES,
    }


def _list_page(
    request: Request, ws: WS, session: str, status_code: int = 200, **extra: Any
) -> Response:
    endpoints = _service(ws).list_endpoints()
    extra.setdefault("form", {"events": ["scan"]})
    return page(
        request,
        "webhooks.html",
        status_code,
        **_common(ws, session),
        endpoints=endpoints,
        **extra,
    )


def _endpoint_page(
    request: Request, ws: WS, session: str, webhook_id: int, **extra: Any
) -> Response:
    service = _service(ws)
    try:
        endpoint = service.get(webhook_id)
    except NotFoundError as exc:
        return page(request, "base.html", 404, **_common(ws, session), error=str(exc))
    return page(
        request,
        "webhook.html",
        **_common(ws, session),
        endpoint=endpoint,
        stats=service.stats(webhook_id),
        deliveries=service.deliveries(webhook_id, limit=_RECENT),
        **extra,
    )


@router.get("")
def webhooks_page(request: Request, ws: WS) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    return _list_page(request, ws, session)


@router.get("/{webhook_id}")
def webhook_page(request: Request, ws: WS, webhook_id: int) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    return _endpoint_page(request, ws, session, webhook_id)


async def _form(request: Request) -> dict[str, Any]:
    raw = await request.form()
    form: dict[str, Any] = {key: str(value) for key, value in raw.items()}
    form["events"] = [str(value) for value in raw.getlist("events")]
    return form


@router.post("")
async def add_webhook(request: Request, ws: WS) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    form = await _form(request)
    if not ws.admin.csrf_valid(session, form.get("csrf", "")):
        return Response("invalid form token: reload the page", status_code=403)

    def work() -> Response:
        try:
            made = _service(ws).create(
                form.get("url", ""),
                form["events"],
                account=form.get("account") or None,
                description=form.get("description") or None,
            )
        except ServiceError as exc:
            return _list_page(request, ws, session, 422, form=form, error=exc.detail)
        return _endpoint_page(request, ws, session, made.endpoint.id, secret=made.secret)

    return await anyio.to_thread.run_sync(work)


async def _act(
    request: Request,
    ws: WS,
    webhook_id: int,
    action: Callable[[WebhookService], _T],
    done: Msg | None,
) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    form = await _form(request)
    if not ws.admin.csrf_valid(session, form.get("csrf", "")):
        return Response("invalid form token: reload the page", status_code=403)

    def work() -> Response:
        try:
            action(_service(ws))
        except ServiceError as exc:
            status = 404 if isinstance(exc, NotFoundError) else 422
            return page(request, "base.html", status, **_common(ws, session), error=exc.detail)
        if done is None:
            return RedirectResponse("/dashboard/webhooks", status_code=303)
        return _endpoint_page(request, ws, session, webhook_id, notice=done)

    return await anyio.to_thread.run_sync(work)


@router.post("/{webhook_id}/test")
async def test_webhook(request: Request, ws: WS, webhook_id: int) -> Response:
    return await _act(
        request, ws, webhook_id, lambda s: s.send_test(webhook_id), N_("Ping queued: see below.")
    )


@router.post("/{webhook_id}/enable")
async def enable_webhook(request: Request, ws: WS, webhook_id: int) -> Response:
    return await _act(
        request, ws, webhook_id, lambda s: s.update(webhook_id, enabled=True), N_("Enabled.")
    )


@router.post("/{webhook_id}/disable")
async def disable_webhook(request: Request, ws: WS, webhook_id: int) -> Response:
    return await _act(
        request, ws, webhook_id, lambda s: s.update(webhook_id, enabled=False), N_("Disabled.")
    )


@router.post("/{webhook_id}/remove")
async def remove_webhook(request: Request, ws: WS, webhook_id: int) -> Response:
    return await _act(request, ws, webhook_id, lambda s: s.remove(webhook_id), None)


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(request: Request, ws: WS, webhook_id: int, delivery_id: int) -> Response:
    return await _act(
        request,
        ws,
        webhook_id,
        lambda s: s.retry(webhook_id, delivery_id),
        N_("Delivery %(id)s queued again.", id=delivery_id),
    )
