"""``/api/v1/docs``: the API's docs page, Swagger UI served by wxqr itself (no CDN).

The OpenAPI document is at ``/api/v1/openapi.json`` (the app's ``openapi_url``); the
Swagger UI files come from the npm registry at build time (``frontend/``) and are served
from ``/static/vendor/swagger-ui/``.

The page runs under a strict Content-Security-Policy: scripts only from wxqr itself and
no inline script at all (FastAPI's stock page starts Swagger UI with an inline script, so
the start-up lives in ``/static/swagger-init.js``, which reads the document's URL from a
``data-`` attribute), no framing (``frame-ancestors 'none'`` and ``X-Frame-Options``, against
clickjacking of "Try it out" with a stored API key), and ``nosniff``. Styles come only from
wxqr too (Swagger UI sets its inline styles through the DOM, which the policy allows);
tests/web/api/test_docs_page.py renders the page in Chromium and finds no violation.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

__all__ = ["DOCS_SECURITY_HEADERS", "router"]

router = APIRouter(include_in_schema=False)

_VENDOR = "/static/vendor/swagger-ui"
_INIT = "/static/swagger-init.js"

DOCS_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>wxqr REST API</title>
<link rel="stylesheet" href="{vendor}/swagger-ui.css">
<link rel="icon" href="{vendor}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{vendor}/swagger-ui-bundle.js"></script>
<script src="{init}"></script>
</body>
</html>
"""


@router.get("/docs")
def docs_page(request: Request) -> HTMLResponse:
    openapi_url = request.app.openapi_url or "/api/v1/openapi.json"
    html = _PAGE.format(vendor=_VENDOR, init=_INIT, openapi_url=escape(openapi_url, quote=True))
    return HTMLResponse(html, headers=DOCS_SECURITY_HEADERS)
