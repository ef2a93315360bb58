"""lifecycle: the channel page's auto-renew switch (issue 19), thin over
:meth:`wxqr.service.code_lifecycle.CodeLifecycle.set_renewal`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.service.code_lifecycle import parse_duration
from wxqr.service.errors import ServiceError
from wxqr.web.api._params import ChannelIdPath
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._guard import EditorPost, Posted, common, fields

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)


@router.post("/channels/{channel_id}/renewal")
def save_renewal(
    request: Request, visit: EditorPost, posted: Posted, channel_id: ChannelIdPath
) -> Response:
    form = fields(posted)
    lead_text = form.get("lead_time", "").strip()
    try:
        lead = parse_duration(lead_text, field_name="lead_time") if lead_text else None
        visit.ws.lifecycle.set_renewal(channel_id, form.get("auto_renew") == "1", lead)
    except ServiceError as exc:
        return error_page(request, exc, **common(visit, None))
    return RedirectResponse(f"/dashboard/channels/{channel_id}", status_code=303)
