"""The channel's edit page: name, group, tags, follower tags, payload and the reply (text,
image by media id, or a news article) with a preview of the rendered reply, archive and
restore, and the channel's code history.

Thin over :class:`wxqr.service.channels.ChannelService`: the form becomes one
:class:`ChannelPatch`; the reply goes through :func:`reply_from_input`, the one rule every
adapter uses; the preview fills the placeholders with :func:`fill_template`, as the webhook
does when it answers a scan.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from wxqr.i18n import N_
from wxqr.protocol import Article, ImageReply, NewsReply, Reply, TextReply
from wxqr.service.channels import Channel, ChannelPatch
from wxqr.service.errors import InvalidInputError, ServiceError
from wxqr.service.replies import fill_template, reply_from_input
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._guard import EditorPost, Posted, Viewer, Visit, fields
from wxqr.web.dashboard._pages import ChannelIdPath, _common
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

PREVIEW_OPENID = "o6_preview_openid"


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("，", ",").split(",") if part.strip())


def form_of_reply(reply: Reply | None) -> dict[str, str]:
    """The reply fields of a form, filled from ``reply``."""
    form = {"reply_type": "none"}
    if isinstance(reply, TextReply):
        form.update(reply_type="text", reply_text=reply.content)
    elif isinstance(reply, ImageReply):
        form.update(reply_type="image", media_id=reply.media_id)
    elif isinstance(reply, NewsReply):
        first = reply.articles[0]
        form.update(
            reply_type="news",
            title=first.title,
            description=first.description,
            url=first.url,
            pic_url=first.pic_url,
        )
    return form


def form_of(channel: Channel) -> dict[str, str]:
    """The edit form's fields, filled from the channel."""
    return {
        "name": channel.name,
        "group": channel.group or "",
        "tags": ", ".join(channel.tags),
        "follower_tags": ", ".join(channel.follower_tags),
        "payload": ""
        if channel.payload is None
        else json.dumps(channel.payload, ensure_ascii=False),
        **form_of_reply(channel.reply),
    }


def reply_of(form: dict[str, str]) -> Reply | None:
    """The reply the form's reply fields describe (``None``: no reply)."""
    kind = form.get("reply_type", "none")
    if kind == "none":
        return None
    if kind == "text":
        return reply_from_input(form.get("reply_text", ""))
    if kind == "image":
        return reply_from_input({"type": "image", "media_id": form.get("media_id", "").strip()})
    if kind == "news":
        article = {k: form.get(k, "").strip() for k in ("title", "description", "url", "pic_url")}
        return reply_from_input({"type": "news", "articles": [article]})
    raise InvalidInputError("reply type must be none, text, image or news", field="reply_type")


def _payload_of(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"payload is not JSON: {exc.msg}", field="payload") from None


def preview_of(reply: Reply | None, scene: str) -> dict[str, Any] | None:
    """The reply as a scan of ``scene`` would get it (placeholders filled)."""
    if reply is None:
        return None
    filled = fill_template(reply, scene=scene, openid=PREVIEW_OPENID)
    if isinstance(filled, TextReply):
        return {"type": "text", "text": filled.content}
    if isinstance(filled, ImageReply):
        return {"type": "image", "media_id": filled.media_id}
    articles: tuple[Article, ...] = filled.articles
    return {"type": "news", "articles": articles}


@router.get("/channels/{channel_id}/edit")
def edit_channel_form(
    request: Request, visit: Viewer, channel_id: ChannelIdPath, saved: bool = False
) -> Response:
    """The edit page; a viewer sees it read-only (its history and preview)."""
    form = form_of(visit.ws.channels.get(channel_id))
    return page(
        request,
        "channel_edit.html",
        **_edit_context(visit, channel_id, form),
        notice=N_("Saved.") if saved else None,
    )


@router.post("/channels/{channel_id}/edit")
def edit_channel(
    request: Request, visit: EditorPost, posted: Posted, channel_id: ChannelIdPath
) -> Response:
    ws, form = visit.ws, fields(posted)
    action = form.get("action", "save")
    try:
        if action == "archive":
            ws.channels.archive(channel_id)
        elif action == "restore":
            ws.channels.restore(channel_id)
        else:
            ws.channels.update(
                channel_id,
                ChannelPatch(
                    name=form.get("name", ""),
                    group=form.get("group", "").strip() or None,
                    tags=_split(form.get("tags", "")),
                    follower_tags=_split(form.get("follower_tags", "")),
                    payload=_payload_of(form.get("payload", "")),
                    reply=reply_of(form),
                ),
            )
    except ServiceError as exc:
        return error_page(
            request,
            exc,
            template="channel_edit.html",
            **_edit_context(visit, channel_id, form),
        )
    return RedirectResponse(f"/dashboard/channels/{channel_id}/edit?saved=1", status_code=303)


def _edit_context(visit: Visit, channel_id: int, form: dict[str, str]) -> dict[str, Any]:
    ws = visit.ws
    channel = ws.channels.get(channel_id)
    acct = ws.account_of_channel(channel_id)
    code = ws.codes.current_code(channel_id)
    now = ws.clock()
    return {
        **_common(visit, acct),
        "channel": channel,
        "form": form,
        "preview": preview_of(channel.reply, code.scene if code else "1000"),
        "preview_scene": code.scene if code else "1000",
        "history": [(c, c.status(now).value) for c in ws.codes.codes_of(channel_id)],
        "scene_replies": ws.channels.scene_replies(channel_id),
        "timezone": acct.timezone,
    }
