"""``/api/v1/docs``: the API's docs page, Swagger UI served by wxqr itself (no CDN).

The OpenAPI document is at ``/api/v1/openapi.json`` (the app's ``openapi_url``); the
Swagger UI files come from the npm registry at build time (``frontend/``) and are served
from ``/static/vendor/swagger-ui/``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_VENDOR = "/static/vendor/swagger-ui"


@router.get("/docs")
def docs_page(request: Request) -> HTMLResponse:
    openapi_url = request.app.openapi_url or "/api/v1/openapi.json"
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title="wxqr REST API",
        swagger_js_url=f"{_VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{_VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{_VENDOR}/favicon-32x32.png",
    )
