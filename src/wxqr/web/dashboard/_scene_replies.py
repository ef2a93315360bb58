"""A reply per scene: one channel may have several codes (scenes), and each may answer a
scan with its own reply instead of the channel's (``scenes.reply``, which the webhook
prefers). The page shows the reply a scan of that scene gets, placeholders filled.

Thin over :meth:`wxqr.service.channels.ChannelService.set_scene_reply`; the form's reply
fields are the channel edit page's (:func:`._channel_edit.reply_of`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.i18n import N_
from wxqr.service.channels import SceneReply
from wxqr.service.errors import NotFoundError, ServiceError
from wxqr.web.dashboard._channel_edit import form_of_reply, preview_of, reply_of
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._guard import EditorPost, Posted, Viewer, Visit, common, fields
from wxqr.web.dashboard._pages import ChannelIdPath
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

ScenePath = Path(min_length=1, max_length=64)


def _scene(visit: Visit, channel_id: int, scene: str) -> SceneReply:
    for found in visit.ws.channels.scene_replies(channel_id):
        if found.scene == scene:
            return found
    raise NotFoundError(f"channel {channel_id} has no scene {scene!r}")


def _context(
    visit: Visit, channel_id: int, scene: SceneReply, form: dict[str, str]
) -> dict[str, Any]:
    channel = visit.ws.channels.get(channel_id)
    acct = visit.ws.account_of_channel(channel_id)
    effective = scene.reply if scene.reply is not None else channel.reply
    return {
        **common(visit, acct),
        "channel": channel,
        "scene": scene,
        "form": form,
        "own_reply": scene.reply is not None,
        "preview": preview_of(effective, scene.scene),
        "timezone": acct.timezone,
    }


@router.get("/channels/{channel_id}/scenes/{scene}/reply")
def scene_reply_form(
    request: Request,
    visit: Viewer,
    channel_id: ChannelIdPath,
    scene: str = ScenePath,
    saved: bool = False,
) -> Response:
    found = _scene(visit, channel_id, scene)
    return page(
        request,
        "scene_reply.html",
        **_context(visit, channel_id, found, form_of_reply(found.reply)),
        notice=N_("Saved.") if saved else None,
    )


@router.post("/channels/{channel_id}/scenes/{scene}/reply")
def save_scene_reply(
    request: Request,
    visit: EditorPost,
    posted: Posted,
    channel_id: ChannelIdPath,
    scene: str = ScenePath,
) -> Response:
    form = fields(posted)
    found = _scene(visit, channel_id, scene)
    try:
        reply = None if form.get("action") == "clear" else reply_of(form)
        visit.ws.channels.set_scene_reply(channel_id, scene, reply)
    except ServiceError as exc:
        return error_page(
            request, exc, template="scene_reply.html", **_context(visit, channel_id, found, form)
        )
    target = f"/dashboard/channels/{channel_id}/scenes/{scene}/reply?saved=1"
    return RedirectResponse(target, status_code=303)
