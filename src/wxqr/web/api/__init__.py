"""The REST API under ``/api/v1``: accounts, channels, codes, stats, events.

Every data endpoint needs an API key (``X-API-Key`` or ``Authorization: Bearer``), checked
before the request's body is read (:mod:`wxqr.web.request_bounds`); errors are RFC 9457
problem documents, declared as such in the OpenAPI document ``/api/v1/openapi.json``
(docs page ``/api/v1/docs``). See docs/api.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from wxqr.web.api import _openapi, accounts, channels, codes, events, scan_sessions, stats
from wxqr.web.api import code_styles as code_styles_api  # posters:
from wxqr.web.api import lifecycle as lifecycle_api
from wxqr.web.api import posters as posters_api  # posters:
from wxqr.web.api import stats_retention as stats_retention_api  # stats-retention:
from wxqr.web.api import webhooks as webhooks_api
from wxqr.web.api._context import require_api_key
from wxqr.web.api._docs import router as docs_router
from wxqr.web.api._problems import PROBLEM_RESPONSES, ProblemRoute, problem

__all__ = ["IMPORT_PATHS", "PREFIX", "install", "router"]

PREFIX = "/api/v1"

#: The paths whose bodies may be as large as ``WXQR_IMPORT_MAX_BODY_BYTES`` (CSV imports).
IMPORT_PATHS = (
    f"{PREFIX}/channels/bulk",
    f"{PREFIX}{posters_api.TEMPLATES_PATH}",  # posters: artwork uploads
    "/dashboard/posters",  # posters: the dashboard's artwork upload form
)

router = APIRouter(prefix=PREFIX)
router.include_router(docs_router)

_data = APIRouter(
    dependencies=[Depends(require_api_key)],
    route_class=ProblemRoute,
    responses=PROBLEM_RESPONSES,
    generate_unique_id_function=_openapi.operation_id,
)
for _module in (accounts, channels, codes, stats, events):
    _data.include_router(_module.router)
_data.include_router(webhooks_api.router)
for _lifecycle in (  # lifecycle: expiring codes, renewal settings, quotas
    lifecycle_api.codes_router,
    lifecycle_api.channels_router,
    lifecycle_api.accounts_router,
):
    _data.include_router(_lifecycle)
_data.include_router(scan_sessions.router)  # scan-sessions:
_data.include_router(scan_sessions.bindings_router)  # scan-sessions:
_data.include_router(posters_api.router)  # posters:
_data.include_router(code_styles_api.router)  # posters:
_data.include_router(stats_retention_api.router)  # stats-retention:
router.include_router(_data)
# scan-sessions: the browser's poll URLs (poll token, no API key; PUBLIC_PATH_PATTERN)
router.include_router(
    scan_sessions.public_router, generate_unique_id_function=_openapi.operation_id
)


def _allowed_methods(request: Request) -> list[str]:
    """The methods the API's OpenAPI document has for this path (none: an unknown path).

    The document is the one list of the API's operations that does not depend on how
    FastAPI stores included routers; its path templates are matched segment by segment.
    """
    document = request.app.openapi()
    wanted = request.url.path.rstrip("/").split("/")
    allowed: set[str] = set()
    for template, operations in document.get("paths", {}).items():
        parts = template.split("/")
        if len(parts) == len(wanted) and all(
            part == seg or (part.startswith("{") and part.endswith("}") and seg)
            for part, seg in zip(parts, wanted, strict=True)
        ):
            allowed |= {method.upper() for method in operations}
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)


async def _unknown(request: Request, path: str) -> JSONResponse:
    allowed = _allowed_methods(request)
    if allowed:
        return problem(
            405,
            f"{request.method} is not allowed on {request.url.path}: use {', '.join(allowed)}",
            instance=request.url.path,
            headers={"Allow": ", ".join(allowed)},
        )
    return problem(404, f"no API endpoint {request.url.path}", instance=request.url.path)


# Anything else under the prefix is a problem document too: 405 for a known path with
# another method (OPTIONS included), 404 for an unknown path; never the app's plain JSON.
router.add_api_route(
    "/{path:path}",
    _unknown,
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
)


def install(app: FastAPI) -> None:
    """What the API adds to the app beyond its routes: its true OpenAPI document."""
    _openapi.install(app)
