"""``/api/v1/channels``: channels (CRUD, bulk CSV import) and their codes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from starlette.formparsers import MultiPartException

from wxqr.service.bulk import import_channels, parse_channel_csv
from wxqr.service.channels import UNSET, ChannelPatch, ChannelStatus, NewChannel, parse_reply
from wxqr.service.code_expiry import check_exportable
from wxqr.service.code_images import ImageSpec
from wxqr.service.errors import InvalidInputError, NotFoundError
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import WS
from wxqr.web.api._images import ForceQuery, image_response, image_spec
from wxqr.web.api._params import INT64_MAX, ChannelIdPath
from wxqr.web.api._problems import ProblemRoute
from wxqr.web.api._schemas import ChannelIn, ChannelOut, ChannelPatchIn, CodeIn, CodeOut

__all__ = ["router"]

router = APIRouter(prefix="/channels", tags=["channels"], route_class=ProblemRoute)


class ChannelPage(BaseModel):
    items: list[ChannelOut]
    limit: int
    offset: int


class BulkRowOut(BaseModel):
    line: int
    name: str
    reason: str


class BulkResult(BaseModel):
    created: list[ChannelOut]
    skipped: list[BulkRowOut] = []
    failed: list[BulkRowOut] = []


def _out(ws: Workspace, channel_id: int) -> ChannelOut:
    channel = ws.channels.get(channel_id)
    return ChannelOut.of(channel, ws.codes.current_code(channel.id), ws.clock())


@router.get("", response_model=ChannelPage, summary="List channels")
def list_channels(
    ws: WS,
    account: Annotated[str | None, Query(description="appid (optional with one account)")] = None,
    group: str | None = None,
    tag: str | None = None,
    status: Literal["active", "archived"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> ChannelPage:
    acct = ws.account(account)
    found = ws.channels.list_channels(
        acct.id,
        group=group,
        tag=tag,
        status=ChannelStatus(status) if status else None,
        limit=limit,
        offset=offset,
    )
    codes = ws.codes.current_codes([c.id for c in found])
    now = ws.clock()
    items = [ChannelOut.of(c, codes.get(c.id), now) for c in found]
    return ChannelPage(items=items, limit=limit, offset=offset)


@router.post("", response_model=ChannelOut, status_code=201, summary="Create a channel")
def create_channel(body: ChannelIn, response: Response, ws: WS) -> ChannelOut:
    acct = ws.account(body.account)
    spec = NewChannel(
        name=body.name,
        group=body.group,
        tags=tuple(body.tags),
        payload=body.payload,
        reply=parse_reply(body.reply),
        follower_tags=tuple(body.follower_tags),
    )
    code = body.code.spec() if body.code is not None else None
    created = ws.channel_codes.create(acct.id, spec, code)  # all or nothing
    response.headers["Location"] = f"/api/v1/channels/{created.channel.id}"
    return ChannelOut.of(created.channel, created.code, ws.clock())


@router.post(
    "/bulk",
    response_model=BulkResult,
    status_code=201,
    summary="Create channels (and their codes) from a CSV file",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def import_channels_csv(
    request: Request,
    ws: WS,
    account: Annotated[str | None, Query()] = None,
    skip_existing: Annotated[
        bool, Query(description="Skip rows whose name is taken even by a different channel.")
    ] = False,
) -> BulkResult:
    """Columns: ``name`` (required), ``group``, ``kind`` (permanent|temporary),
    ``scene_type`` (id|str), ``scene``, ``expire_days``, ``tags`` (``;``-separated),
    ``reply``, ``payload`` (JSON), ``follower_tags``. Every row is checked before anything
    is created, and the quota (an import that cannot finish today is refused). Rows that
    match existing channels are skipped: re-sending the CSV of an interrupted import
    continues it."""
    raw = await _csv_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("the CSV must be UTF-8") from None

    def work() -> BulkResult:
        acct = ws.account(account)
        rows = parse_channel_csv(text)
        summary = import_channels(
            ws.channels,
            ws.codes,
            acct.id,
            rows,
            skip_existing=skip_existing,
            quotas=ws.quotas,
        )
        now = ws.clock()
        return BulkResult(
            created=[ChannelOut.of(c.channel, c.code, now) for c in summary.created],
            skipped=[
                BulkRowOut(line=r.line, name=r.name, reason=r.reason) for r in summary.skipped
            ],
            failed=[BulkRowOut(line=r.line, name=r.name, reason=r.reason) for r in summary.failed],
        )

    return await anyio.to_thread.run_sync(work)


async def _csv_body(request: Request) -> bytes:
    """The CSV, sent as the body (text/csv) or as the form field ``file``. Its size is
    bounded while it streams in by :class:`wxqr.web.request_bounds.RequestBounds`
    (``WXQR_IMPORT_MAX_BODY_BYTES``)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return await request.body()
    try:
        form = await request.form()
    except (MultiPartException, ValueError, KeyError, AssertionError) as exc:
        # A broken form (no boundary, cut short, bad headers) is the caller's error.
        raise InvalidInputError(f"the multipart form cannot be read: {exc}") from None
    upload: Any = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidInputError("send the CSV as the form field 'file'", field="file")
    return bytes(await upload.read())


@router.get("/{channel_id}", response_model=ChannelOut, summary="One channel")
def get_channel(channel_id: ChannelIdPath, ws: WS) -> ChannelOut:
    return _out(ws, channel_id)


@router.patch("/{channel_id}", response_model=ChannelOut, summary="Change a channel")
def update_channel(channel_id: ChannelIdPath, body: ChannelPatchIn, ws: WS) -> ChannelOut:
    given = body.model_fields_set
    if "name" in given and body.name is None:
        raise InvalidInputError("a channel's name cannot be removed", field="name")
    patch = ChannelPatch(
        name=body.name if "name" in given and body.name is not None else UNSET,
        group=body.group if "group" in given else UNSET,
        tags=tuple(body.tags or ()) if "tags" in given else UNSET,
        payload=body.payload if "payload" in given else UNSET,
        reply=parse_reply(body.reply) if "reply" in given else UNSET,
        follower_tags=tuple(body.follower_tags or ()) if "follower_tags" in given else UNSET,
        status=ChannelStatus(body.status) if "status" in given and body.status else UNSET,
    )
    ws.channels.update(channel_id, patch)
    return _out(ws, channel_id)


@router.delete(
    "/{channel_id}",
    response_model=ChannelOut,
    summary="Archive a channel",
    description="Channels are archived, never erased: the event log keeps pointing at them "
    "and their codes keep counting. PATCH status=active brings one back.",
)
def archive_channel(channel_id: ChannelIdPath, ws: WS) -> ChannelOut:
    ws.channels.archive(channel_id)
    return _out(ws, channel_id)


@router.get("/{channel_id}/codes", response_model=list[CodeOut], summary="A channel's codes")
def list_channel_codes(channel_id: ChannelIdPath, ws: WS) -> list[CodeOut]:
    ws.channels.get(channel_id)
    now = ws.clock()
    return [CodeOut.of(code, now) for code in ws.codes.codes_of(channel_id)]


@router.post("/{channel_id}/codes", response_model=CodeOut, status_code=201, summary="Issue a code")
def issue_channel_code(
    channel_id: ChannelIdPath, body: CodeIn, response: Response, ws: WS
) -> CodeOut:
    code = ws.codes.issue(channel_id, body.spec())
    response.headers["Location"] = f"/api/v1/codes/{code.id}"
    return CodeOut.of(code, ws.clock())


@router.get(
    "/{channel_id}/image",
    summary="The image of the channel's current code",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}, "image/jpeg": {}}}},
)
def channel_image(
    channel_id: ChannelIdPath,
    spec: Annotated[ImageSpec, Depends(image_spec)],
    ws: WS,
    force: ForceQuery = False,
) -> Response:
    """An expired code is refused (409) unless ``force=true``; a temporary one comes with
    a ``Warning`` header saying when it stops working."""
    ws.channels.get(channel_id)
    code = ws.codes.current_code(channel_id)
    if code is None:
        raise NotFoundError(f"channel {channel_id} has no code yet: issue one first")
    warning = check_exportable(code, force, ws.clock())
    return image_response(ws.images.image(code, spec), f"code-{code.id}", warning)
