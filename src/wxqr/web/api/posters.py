"""``/api/v1/poster-templates`` and ``/api/v1/channels/{id}/poster``: poster templates
(artwork + layout) and a channel's poster (PNG, JPEG or PDF at print resolution)."""

from __future__ import annotations

import base64
import binascii
import tempfile
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from wxqr.service.errors import InvalidInputError
from wxqr.service.posters import MAX_ZIP_CHANNELS, PosterTemplate
from wxqr.web._spool import spooled_chunks
from wxqr.web.api._context import WS
from wxqr.web.api._images import warning_header
from wxqr.web.api._params import INT32_MAX, ChannelIdPath
from wxqr.web.api._problems import ProblemRoute
from wxqr.web.api._schemas import iso

__all__ = ["TEMPLATES_PATH", "router"]

router = APIRouter(tags=["posters"], route_class=ProblemRoute)

#: Where templates (with their base64 artwork) are posted: a larger body bound applies.
TEMPLATES_PATH = "/poster-templates"

TemplateIdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The template's id.")]
LAYOUT_DOC = (
    'The layout: {"code": {"x", "y", "size", "border", "dark", "light", "error"}, '
    '"captions": [{"text", "x", "y", "width", "font_size", "colour", "align", "wrap", '
    '"max_lines"}]}; caption placeholders: {channel_name}, {group}, {scene}, '
    "{channel_id}, {account}. Sizes in pixels of the artwork."
)


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = Field(None, description="appid (optional with one account)")
    name: str = Field(min_length=1, max_length=64)
    artwork: str = Field(description="The PNG or JPEG artwork, base64-encoded.")
    layout: dict[str, Any] = Field(description=LAYOUT_DOC)


class TemplatePatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layout: dict[str, Any] = Field(description=LAYOUT_DOC)


class TemplateOut(BaseModel):
    id: int
    account_id: int
    name: str
    artwork_type: str
    width: int
    height: int
    layout: dict[str, Any]
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, template: PosterTemplate) -> TemplateOut:
        return cls(
            id=template.id,
            account_id=template.account_id,
            name=template.name,
            artwork_type=template.artwork_type,
            width=template.width,
            height=template.height,
            layout=template.layout.to_dict(),
            created_at=iso(template.created_at),
            updated_at=iso(template.updated_at),
        )


def _artwork(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("artwork must be base64", field="artwork") from None


@router.get(TEMPLATES_PATH, response_model=list[TemplateOut], summary="List poster templates")
def list_templates(ws: WS, account: Annotated[str | None, Query()] = None) -> list[TemplateOut]:
    acct = ws.account(account)
    return [TemplateOut.of(t) for t in ws.posters.list_templates(acct.id)]


@router.post(
    TEMPLATES_PATH, response_model=TemplateOut, status_code=201, summary="Add a poster template"
)
def add_template(body: TemplateIn, response: Response, ws: WS) -> TemplateOut:
    acct = ws.account(body.account)
    made = ws.posters.add_template(acct.id, body.name, _artwork(body.artwork), body.layout)
    response.headers["Location"] = f"/api/v1{TEMPLATES_PATH}/{made.id}"
    return TemplateOut.of(made)


@router.get(
    TEMPLATES_PATH + "/{template_id}", response_model=TemplateOut, summary="One poster template"
)
def get_template(template_id: TemplateIdPath, ws: WS) -> TemplateOut:
    return TemplateOut.of(ws.posters.get_template(template_id))


@router.patch(
    TEMPLATES_PATH + "/{template_id}",
    response_model=TemplateOut,
    summary="Change a poster template's layout",
)
def update_template(template_id: TemplateIdPath, body: TemplatePatchIn, ws: WS) -> TemplateOut:
    return TemplateOut.of(ws.posters.update_layout(template_id, body.layout))


@router.delete(
    TEMPLATES_PATH + "/{template_id}",
    response_model=TemplateOut,
    summary="Remove a poster template",
)
def remove_template(template_id: TemplateIdPath, ws: WS) -> TemplateOut:
    return TemplateOut.of(ws.posters.remove_template(template_id))


@router.get(
    TEMPLATES_PATH + "/{template_id}/preview",
    summary="A small JPEG of the template with sample captions",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def preview_template(
    template_id: TemplateIdPath,
    ws: WS,
    width: Annotated[int, Query(ge=100, le=2000, description="Width in pixels.")] = 800,
) -> Response:
    content = ws.posters.preview(template_id, width=width)
    return Response(content, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layout: dict[str, Any] = Field(description=LAYOUT_DOC)
    width: int = Field(800, ge=100, le=2000, description="Width in pixels.")


@router.post(
    TEMPLATES_PATH + "/{template_id}/preview",
    summary="A small JPEG of the template with a draft layout (the editor's live preview)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def preview_draft(template_id: TemplateIdPath, body: PreviewIn, ws: WS) -> Response:
    """Nothing is saved; the draft is checked like a saved layout (422 with the reason)."""
    content = ws.posters.preview(template_id, body.layout, width=body.width)
    return Response(content, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/channels/{channel_id}/poster",
    summary="The channel's poster: its current code on a template, at print resolution",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "application/pdf": {}}}},
)
def channel_poster(
    channel_id: ChannelIdPath,
    ws: WS,
    template: Annotated[
        str | None,
        Query(max_length=64, description="Template name or id (optional with one template)."),
    ] = None,
    format: Literal["png", "jpeg", "pdf"] = "png",
) -> Response:
    poster = ws.posters.channel_poster(channel_id, template, format)
    name = f"poster-{poster.channel.id}.{poster.extension}"
    return Response(
        poster.content,
        media_type=poster.content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            **warning_header(poster.warning),
        },
    )


@router.get(
    TEMPLATES_PATH + "/{template_id}/zip",
    summary="A zip of the posters of a group's active channels on this template",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def template_zip(
    template_id: TemplateIdPath,
    ws: WS,
    group: Annotated[
        str | None,
        Query(max_length=64, description="The group (none: every active channel)."),
    ] = None,
    format: Literal["jpeg", "png", "pdf"] = "jpeg",
) -> Response:
    """One poster per active channel (named by it), rendered into a temporary file and
    streamed; more than 1,000 channels are refused (422) before anything is drawn.
    Temporary codes come with a ``Warning`` header saying when they stop working."""
    template = ws.posters.get_template(template_id)
    spool = tempfile.TemporaryFile(prefix="wxqr-posters-")  # noqa: SIM115 (closed by _chunks)
    try:
        result = ws.posters.write_zip(
            template.account_id,
            str(template.id),
            spool,
            group=group or None,
            fmt=format,
            max_channels=MAX_ZIP_CHANNELS,
        )
    except BaseException:
        spool.close()
        raise
    notice = None
    if result.warnings:
        more = len(result.warnings) - 1
        notice = result.warnings[0] + (f" (and {more} more temporary code(s))" if more else "")
    name = f"posters-{template.name}" + (f"-{group}" if group else "") + ".zip"
    return StreamingResponse(
        spooled_chunks(spool),
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Content-Length": str(spool.tell()),
            "X-Wxqr-Files": str(len(result.files)),
            "X-Wxqr-Skipped": str(len(result.skipped)),
            "X-Content-Type-Options": "nosniff",
            **warning_header(notice),
        },
    )
