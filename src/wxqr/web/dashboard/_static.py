"""``/static/…``: the dashboard's CSS and JavaScript, and the vendored npm files.

Served by wxqr itself from the package (``wxqr/web/static``); the ``vendor/`` folder is
filled at build time from the npm registry (see hatch_build.py), never at run time.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

__all__ = ["STATIC_DIR", "router", "vendor_file"]

STATIC_DIR = (Path(__file__).parent.parent / "static").resolve()

router = APIRouter(include_in_schema=False)

_TYPES = {".js": "text/javascript", ".css": "text/css", ".map": "application/json"}


def vendor_file(name: str) -> Path:
    return STATIC_DIR / "vendor" / name


@router.get("/static/{path:path}")
def static_file(path: str) -> Response:
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        return PlainTextResponse("not found", status_code=404)
    media = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
    return FileResponse(
        target,
        media_type=media or "application/octet-stream",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
