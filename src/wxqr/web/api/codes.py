"""``/api/v1/codes``: one code, its image (PNG, SVG, WeChat's JPEG), and zips of many."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from wxqr.service.bulk import build_zip
from wxqr.service.channels import ChannelStatus
from wxqr.service.code_expiry import check_exportable
from wxqr.service.code_images import ImageFormat, ImageSpec
from wxqr.web.api._context import WS
from wxqr.web.api._images import ForceQuery, image_response, image_spec, warning_header
from wxqr.web.api._params import INT32_MAX, CodeIdPath
from wxqr.web.api._problems import ProblemRoute
from wxqr.web.api._schemas import CodeOut

__all__ = ["router"]

router = APIRouter(prefix="/codes", tags=["codes"], route_class=ProblemRoute)


@router.get(
    "/zip",
    summary="A zip of the current code image of many channels, named by channel",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def codes_zip(
    ws: WS,
    account: Annotated[str | None, Query()] = None,
    group: str | None = None,
    channel_id: Annotated[
        list[Annotated[int, Field(ge=1, le=INT32_MAX)]] | None,
        Query(description="Repeat for several channels."),
    ] = None,
    status: Literal["active", "archived"] | None = "active",
    format: Literal["png", "svg"] = "png",
    scale: Annotated[int, Query(ge=1, le=40)] = 10,
    size: Annotated[int | None, Query(ge=21, le=4096)] = None,
    border: Annotated[int, Query(ge=0, le=16)] = 4,
    force: ForceQuery = False,
) -> Response:
    acct = ws.account(account)
    channels = ws.channels.list_channels(
        acct.id,
        group=group,
        ids=channel_id,
        status=ChannelStatus(status) if status else None,
    )
    spec = ImageSpec(format=ImageFormat(format), scale=scale, size=size, border=border)
    result = build_zip(ws.codes, ws.images, channels, spec, now=ws.clock(), force=force)
    expired = len(result.expired)
    notice = f"{expired} expired code(s) left out (force=true to include them)" if expired else None
    if notice is None and result.warnings:
        notice = f"{len(result.warnings)} temporary code(s) will stop working: {result.warnings[0]}"
    name = f"wxqr-{acct.appid}-codes.zip"
    return Response(
        result.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Wxqr-Files": str(len(result.files)),
            "X-Wxqr-Skipped": str(len(result.skipped)),
            "X-Wxqr-Expired": str(expired),
            **warning_header(notice),
        },
    )


@router.get("/{code_id}", response_model=CodeOut, summary="One code")
def get_code(code_id: CodeIdPath, ws: WS) -> CodeOut:
    return CodeOut.of(ws.codes.get(code_id), ws.clock())


@router.get(
    "/{code_id}/image",
    summary="The code's image: rendered PNG/SVG, or WeChat's JPEG (source=wechat)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}, "image/jpeg": {}}}},
)
def code_image(
    code_id: CodeIdPath,
    spec: Annotated[ImageSpec, Depends(image_spec)],
    ws: WS,
    force: ForceQuery = False,
) -> Response:
    """An expired code is refused (409) unless ``force=true``; a temporary one comes with
    a ``Warning`` header saying when it stops working."""
    code = ws.codes.get(code_id)
    warning = check_exportable(code, force, ws.clock())
    return image_response(ws.images.image(code, spec), f"code-{code.id}", warning)
