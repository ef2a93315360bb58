"""Bulk work in the browser: channels imported from a CSV upload with a report per row,
and the zip of a group's codes.

Thin over :func:`wxqr.service.bulk_report.import_with_report` (the rules of
:mod:`wxqr.service.bulk`, every row checked and reported) and
:func:`wxqr.service.bulk.build_zip` (the REST API's and the CLI's zip). The upload is
bounded like every dashboard body (``WXQR_API_MAX_BODY_BYTES``, 1 MiB by default).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from wxqr.i18n import N_
from wxqr.service.bulk import build_zip
from wxqr.service.bulk_report import import_with_report
from wxqr.service.channels import ChannelStatus
from wxqr.service.code_images import ImageFormat, ImageSpec
from wxqr.service.errors import InvalidInputError, ServiceError
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._guard import Editor, EditorPost, Posted, ViewerFile, common
from wxqr.web.dashboard._pages import _pick_account
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

SAMPLE = "name,group,kind,scene_type,scene,expire_days,tags"


@router.get("/import")
def import_form(request: Request, visit: Editor, account: str | None = None) -> Response:
    acct = _pick_account(visit.ws, account)
    return page(request, "import.html", **common(visit, acct), sample=SAMPLE, report=None)


def _csv_text(posted: object) -> str:
    if not isinstance(posted, UploadFile):
        raise InvalidInputError("choose a CSV file to upload", field="file")
    raw = posted.file.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(
            "the CSV must be UTF-8 (Excel: Save As, CSV UTF-8)", field="file"
        ) from None


@router.post("/import")
def import_upload(
    request: Request, visit: EditorPost, posted: Posted, account: str | None = None
) -> Response:
    ws = visit.ws
    acct = _pick_account(ws, account)
    if acct is None:
        return Response("no account", status_code=404)
    context = {**common(visit, acct), "sample": SAMPLE}
    try:
        report = import_with_report(ws.channels, ws.codes, acct.id, _csv_text(posted.get("file")))
    except ServiceError as exc:
        return error_page(request, exc, template="import.html", report=None, **context)
    if not report.imported:
        notice = None
        error = N_(
            "Nothing was imported: %(count)s row(s) need fixing (see below).", count=report.errors
        )
        status = 422
    elif report.stopped:
        notice, error, status = (
            None,
            N_("The import stopped part way: %(why)s", why=report.stopped),
            502,
        )
    else:
        notice = N_("%(count)s channel(s) imported.", count=len(report.rows))
        error, status = None, 200
    return page(
        request,
        "import.html",
        status,
        **context,
        report=report,
        notice=notice,
        error=error,
        now=ws.clock(),
    )


@router.get("/codes.zip")
def group_zip(
    visit: ViewerFile,
    account: str | None = None,
    group: Annotated[str | None, Query(max_length=200)] = None,
    format: Annotated[str, Query(pattern="^(png|svg)$")] = "png",
) -> Response:
    """The current codes of a group's active channels (every channel without ``group``)."""
    ws = visit.ws
    acct = _pick_account(ws, account)
    if acct is None:
        return Response("no account", status_code=404)
    channels = ws.channels.list_channels(acct.id, group=group or None, status=ChannelStatus.ACTIVE)
    spec = ImageSpec(format=ImageFormat(format), scale=10)
    result = build_zip(ws.codes, ws.images, channels, spec, now=ws.clock())
    name = f"wxqr-{group or acct.appid}-codes.zip"
    return Response(
        result.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Wxqr-Files": str(len(result.files)),
            "X-Wxqr-Skipped": str(len(result.skipped)),
        },
    )
