"""The dashboard's webhook pages: add, test, enable/disable, remove endpoints, and look at
their recent deliveries (with retry). The signing secret is shown once, on creation.

For admins only (the guard, :mod:`._guard`). Handlers are plain ``def`` (FastAPI runs
them in its thread pool); the guard reads the form on the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.i18n import N_, Msg
from wxqr.service.errors import NotFoundError, ServiceError
from wxqr.service.webhooks import SUBSCRIBABLE_EVENT_TYPES, WebhookService
from wxqr.service.workspace import Workspace
from wxqr.web.dashboard._errors import DashboardRoute
from wxqr.web.dashboard._guard import Admin, AdminPost, Posted, Visit, common
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(
    prefix="/dashboard/webhooks", include_in_schema=False, route_class=DashboardRoute
)

_T = TypeVar("_T")
_RECENT = 50


def _service(ws: Workspace) -> WebhookService:
    return ws.webhooks


def _common(visit: Visit) -> dict[str, Any]:
    return {**common(visit, None), "event_types": SUBSCRIBABLE_EVENT_TYPES}


def _list_page(request: Request, visit: Visit, status_code: int = 200, **extra: Any) -> Response:
    endpoints = _service(visit.ws).list_endpoints()
    extra.setdefault("form", {"events": ["scan"]})
    return page(
        request,
        "webhooks.html",
        status_code,
        **_common(visit),
        endpoints=endpoints,
        **extra,
    )


def _endpoint_page(request: Request, visit: Visit, webhook_id: int, **extra: Any) -> Response:
    service = _service(visit.ws)
    try:
        endpoint = service.get(webhook_id)
    except NotFoundError as exc:
        return page(request, "base.html", 404, **_common(visit), error=str(exc))
    return page(
        request,
        "webhook.html",
        **_common(visit),
        endpoint=endpoint,
        stats=service.stats(webhook_id),
        deliveries=service.deliveries(webhook_id, limit=_RECENT),
        **extra,
    )


@router.get("")
def webhooks_page(request: Request, visit: Admin) -> Response:
    return _list_page(request, visit)


@router.get("/{webhook_id}")
def webhook_page(request: Request, visit: Admin, webhook_id: int) -> Response:
    return _endpoint_page(request, visit, webhook_id)


@router.post("")
def add_webhook(request: Request, visit: AdminPost, posted: Posted) -> Response:
    form: dict[str, Any] = {k: str(v) for k, v in posted.items()}
    form["events"] = [str(value) for value in posted.getlist("events")]
    try:
        made = _service(visit.ws).create(
            form.get("url", ""),
            form["events"],
            account=form.get("account") or None,
            description=form.get("description") or None,
        )
    except ServiceError as exc:
        return _list_page(request, visit, 422, form=form, error=exc.detail)
    return _endpoint_page(request, visit, made.endpoint.id, secret=made.secret)


def _act(
    request: Request,
    visit: Visit,
    webhook_id: int,
    action: Callable[[WebhookService], _T],
    done: Msg | None,
) -> Response:
    try:
        action(_service(visit.ws))
    except ServiceError as exc:
        status = 404 if isinstance(exc, NotFoundError) else 422
        return page(request, "base.html", status, **_common(visit), error=exc.detail)
    if done is None:
        return RedirectResponse("/dashboard/webhooks", status_code=303)
    return _endpoint_page(request, visit, webhook_id, notice=done)


@router.post("/{webhook_id}/test")
def test_webhook(request: Request, visit: AdminPost, webhook_id: int) -> Response:
    return _act(
        request, visit, webhook_id, lambda s: s.send_test(webhook_id), N_("Ping queued: see below.")
    )


@router.post("/{webhook_id}/enable")
def enable_webhook(request: Request, visit: AdminPost, webhook_id: int) -> Response:
    return _act(
        request, visit, webhook_id, lambda s: s.update(webhook_id, enabled=True), N_("Enabled.")
    )


@router.post("/{webhook_id}/disable")
def disable_webhook(request: Request, visit: AdminPost, webhook_id: int) -> Response:
    return _act(
        request, visit, webhook_id, lambda s: s.update(webhook_id, enabled=False), N_("Disabled.")
    )


@router.post("/{webhook_id}/remove")
def remove_webhook(request: Request, visit: AdminPost, webhook_id: int) -> Response:
    return _act(request, visit, webhook_id, lambda s: s.remove(webhook_id), None)


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry")
def retry_delivery(
    request: Request, visit: AdminPost, webhook_id: int, delivery_id: int
) -> Response:
    return _act(
        request,
        visit,
        webhook_id,
        lambda s: s.retry(webhook_id, delivery_id),
        N_("Delivery %(id)s queued again.", id=delivery_id),
    )
