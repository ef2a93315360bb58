"""The dashboard's poster pages: the account's templates (upload one: artwork and the
code's box), and a page per template to edit its layout — number inputs for the code box
and the captions, a live preview redrawn from the draft as it is typed (posters.js posts
the form to the preview route), saved when the form is sent.

Thin over :class:`wxqr.service.posters.PosterService`; the rules (bounded artwork, a code
box large enough to scan) are the service's, their messages shown on the page.
"""

from __future__ import annotations

import tempfile
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.datastructures import UploadFile

from wxqr.i18n import N_, Msg
from wxqr.service.code_styles import CodeStyle
from wxqr.service.errors import ServiceError
from wxqr.service.posters import ARTWORK_BOUNDS, MAX_ZIP_CHANNELS, PLACEHOLDERS, PosterTemplate
from wxqr.web._spool import spooled_chunks
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._guard import Editor, EditorPost, Posted, ViewerFile, Visit, common, fields
from wxqr.web.dashboard._pages import _pick_account
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=DashboardRoute)

#: Caption rows on the editor: the template's, plus empty ones to add.
_CAPTION_ROWS = 4
_ALIGNS = ("left", "center", "right")


def _layout_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The layout typed in the editor (numbers stay text when they are not numbers: the
    service's parser names the field at fault)."""

    def number(key: str) -> Any:
        raw = form.get(key, "").strip()
        return int(raw) if raw.lstrip("-").isdigit() else raw

    def given(keys: tuple[str, ...], prefix: str) -> dict[str, Any]:
        """The fields filled in (a blank one takes the layout's default)."""
        return {k: number(prefix + k) for k in keys if form.get(prefix + k, "").strip()}

    code: dict[str, Any] = given(("x", "y", "size", "border"), "code_")
    for key, default in (("dark", "#000000"), ("light", "#ffffff"), ("error", "M")):
        code[key] = form.get(f"code_{key}") or default
    captions = []
    for n in range(_CAPTION_ROWS + 8):
        text = form.get(f"caption_{n}_text", "").strip()
        if not text:
            continue
        captions.append(
            {
                "text": text,
                **given(("x", "y", "width", "font_size"), f"caption_{n}_"),
                "colour": form.get(f"caption_{n}_colour", "#000000"),
                "align": form.get(f"caption_{n}_align", "left"),
                "wrap": True,
            }
        )
    return {"code": code, "captions": captions}


def _rows(template: PosterTemplate) -> list[dict[str, Any]]:
    rows = [
        {
            "text": c.text,
            "x": c.x,
            "y": c.y,
            "width": c.width,
            "font_size": c.font_size,
            "colour": c.colour,
            "align": c.align,
        }
        for c in template.layout.captions
    ]
    blank = {"text": "", "x": 0, "y": 0, "width": template.width, "font_size": 96}
    blank.update(colour="#000000", align="center")
    return rows + [dict(blank) for _ in range(max(1, _CAPTION_ROWS - len(rows)))]


def _list_page(
    request: Request,
    visit: Visit,
    account: str | None,
    *,
    status_code: int = 200,
    exc: ServiceError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    ws = visit.ws
    acct = _pick_account(ws, account)
    if acct is None:
        return page(request, "base.html", **common(visit, None))
    styles = ws.code_styles.styles(acct.id)
    context: dict[str, Any] = {
        **common(visit, acct),
        "templates": ws.posters.list_templates(acct.id),
        "style": styles.get(None) or CodeStyle(),
        "group_styles": {g: st for g, st in styles.items() if g is not None},
        "groups": ws.channels.groups(acct.id),
        "errors": ("l", "m", "q", "h"),
        "form": form or {"code_size": "900", "code_x": "790", "code_y": "1700"},
        "max_mb": ARTWORK_BOUNDS.max_bytes // (1024 * 1024),
        "temporary": ws.posters.temporary_warnings(acct.id),
    }
    if exc is not None:
        return error_page(request, exc, template="posters.html", **context)
    return page(request, "posters.html", status_code, **context)


def _editor(
    request: Request,
    visit: Visit,
    template: PosterTemplate,
    *,
    notice: Msg | None = None,
    exc: ServiceError | None = None,
) -> Response:
    acct = _pick_account(visit.ws, None)
    context: dict[str, Any] = {
        **common(visit, acct),
        "template": template,
        "code": template.layout.code,
        "rows": _rows(template),
        "aligns": _ALIGNS,
        "placeholders": ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
        "notice": notice,
    }
    if exc is not None:
        return error_page(request, exc, template="poster.html", **context)
    return page(request, "poster.html", **context)


@router.get("/posters")
def posters_page(request: Request, visit: Editor, account: str | None = None) -> Response:
    return _list_page(request, visit, account)


@router.post("/posters")
def upload_template(
    request: Request, visit: EditorPost, posted: Posted, account: str | None = None
) -> Response:
    ws = visit.ws
    form = fields(posted)
    upload = posted.get("artwork")
    artwork = upload.file.read() if isinstance(upload, UploadFile) else b""
    acct = _pick_account(ws, account)
    if acct is None:
        return Response("no account", status_code=404)
    layout = _layout_from_form(form)
    layout["captions"] = []
    try:
        made = ws.posters.add_template(acct.id, form.get("name", ""), artwork, layout)
    except ServiceError as exc:
        return _list_page(request, visit, account, exc=exc, form=form)
    return RedirectResponse(f"/dashboard/posters/{made.id}", status_code=303)


@router.get("/posters/zip")
def posters_zip(visit: ViewerFile, template: int, group: str | None = None) -> Response:
    """The posters of a group's active channels (every one without ``group``) as a zip,
    rendered into a temporary file and streamed (at most 1,000 channels, as the API)."""
    ws = visit.ws
    found = ws.posters.get_template(template)
    spool = tempfile.TemporaryFile(prefix="wxqr-posters-")  # noqa: SIM115 (closed when sent)
    try:
        ws.posters.write_zip(
            found.account_id,
            str(found.id),
            spool,
            group=group or None,
            max_channels=MAX_ZIP_CHANNELS,
        )
    except BaseException:
        spool.close()
        raise
    name = f"posters-{found.name}" + (f"-{group}" if group else "") + ".zip"
    return StreamingResponse(
        spooled_chunks(spool),
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Content-Length": str(spool.tell()),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/posters/{template_id}")
def editor_page(request: Request, visit: Editor, template_id: int) -> Response:
    return _editor(request, visit, visit.ws.posters.get_template(template_id))


@router.post("/posters/{template_id}")
def save_layout(request: Request, visit: EditorPost, posted: Posted, template_id: int) -> Response:
    ws = visit.ws
    template = ws.posters.get_template(template_id)
    try:
        saved = ws.posters.update_layout(template_id, _layout_from_form(fields(posted)))
    except ServiceError as exc:
        return _editor(request, visit, template, exc=exc)
    return _editor(request, visit, saved, notice=N_("Saved."))


@router.get("/posters/{template_id}/preview")
def saved_preview(visit: ViewerFile, template_id: int) -> Response:
    return _jpeg(visit.ws.posters.preview(template_id, width=600))


@router.post("/posters/{template_id}/preview")
def draft_preview(visit: EditorPost, posted: Posted, template_id: int) -> Response:
    try:
        draft = _layout_from_form(fields(posted))
        content = visit.ws.posters.preview(template_id, draft, width=600)
    except ServiceError as exc:
        return Response(exc.detail, status_code=422, media_type="text/plain; charset=utf-8")
    return _jpeg(content)


def _jpeg(content: bytes) -> Response:
    return Response(
        content,
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/posters/{template_id}/remove")
def remove_template(visit: EditorPost, template_id: int) -> Response:
    visit.ws.posters.remove_template(template_id)
    return RedirectResponse("/dashboard/posters", status_code=303)


@router.post("/code-logo")
def upload_logo(
    request: Request, visit: EditorPost, posted: Posted, account: str | None = None
) -> Response:
    ws = visit.ws
    upload = posted.get("logo")
    logo = upload.file.read() if isinstance(upload, UploadFile) else b""
    acct = _pick_account(ws, account)
    if acct is None:
        return Response("no account", status_code=404)
    try:
        ws.code_styles.set_logo(acct.id, logo)
    except ServiceError as exc:
        return _list_page(request, visit, account, exc=exc)
    return RedirectResponse(f"/dashboard/posters{common(visit, acct)['account_query']}", 303)


@router.post("/code-style")
def save_style(
    request: Request, visit: EditorPost, posted: Posted, account: str | None = None
) -> Response:
    ws = visit.ws
    form = fields(posted)
    acct = _pick_account(ws, account)
    if acct is None:
        return Response("no account", status_code=404)
    style: dict[str, Any] = {
        "dark": form.get("dark", "#000000"),
        "light": form.get("light", "#ffffff"),
        "error": form.get("error", "m"),
        "logo": form.get("logo") == "1",
    }
    for key in ("size", "border"):
        raw = form.get(key, "").strip()
        if raw:
            style[key] = int(raw) if raw.isdigit() else raw
    try:
        ws.code_styles.set_style(acct.id, style, form.get("group") or None)
    except ServiceError as exc:
        return _list_page(request, visit, account, exc=exc)
    return RedirectResponse(f"/dashboard/posters{common(visit, acct)['account_query']}", 303)
