"""lifecycle: the channel page's auto-renew switch (issue 19), thin over
:meth:`wxqr.service.code_lifecycle.CodeLifecycle.set_renewal`."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.service.code_lifecycle import parse_duration
from wxqr.service.errors import ServiceError
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import AdminWS as WS
from wxqr.web.api._params import ChannelIdPath
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._pages import _common
from wxqr.web.dashboard._session import login_redirect, session_of

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)


@router.post("/channels/{channel_id}/renewal")
async def save_renewal(request: Request, ws: WS, channel_id: ChannelIdPath) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    return await anyio.to_thread.run_sync(_save_renewal, request, ws, channel_id, form)


def _save_renewal(
    request: Request, ws: Workspace, channel_id: int, form: dict[str, str]
) -> Response:
    session = session_of(request, ws)
    if session is None:
        return login_redirect(request)
    if not ws.admin.csrf_valid(session, form.get("csrf", "")):
        return Response("invalid form token: reload the page", status_code=403)
    lead_text = form.get("lead_time", "").strip()
    try:
        lead = parse_duration(lead_text, field_name="lead_time") if lead_text else None
        ws.lifecycle.set_renewal(channel_id, form.get("auto_renew") == "1", lead)
    except ServiceError as exc:
        return error_page(request, exc, **_common(ws, session, None))
    return RedirectResponse(f"/dashboard/channels/{channel_id}", status_code=303)
