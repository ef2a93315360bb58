"""The REST API under ``/api/v1``: accounts, channels, codes, stats, events.

Every data endpoint needs an API key (``X-API-Key`` or ``Authorization: Bearer``);
errors are RFC 9457 problem documents. The OpenAPI document is ``/api/v1/openapi.json``
and its docs page ``/api/v1/docs``. See docs/api.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from wxqr.web.api import accounts, channels, codes, events, stats
from wxqr.web.api import webhooks as webhooks_api  # webhooks:
from wxqr.web.api._context import require_api_key
from wxqr.web.api._docs import router as docs_router
from wxqr.web.api._problems import ProblemRoute, problem

__all__ = ["PREFIX", "router"]

PREFIX = "/api/v1"

router = APIRouter(prefix=PREFIX)
router.include_router(docs_router)

_data = APIRouter(dependencies=[Depends(require_api_key)], route_class=ProblemRoute)
for _module in (accounts, channels, codes, stats, events):
    _data.include_router(_module.router)
_data.include_router(webhooks_api.router)  # webhooks:
router.include_router(_data)


async def _unknown(request: Request, path: str) -> JSONResponse:
    return problem(404, f"no API endpoint {request.url.path}", instance=request.url.path)


# Anything else under the prefix is a problem document too, not the app's plain 404.
router.add_api_route(
    "/{path:path}",
    _unknown,
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
