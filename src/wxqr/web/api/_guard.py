"""The API key check that runs before a request's body is read.

:class:`wxqr.web.request_bounds.RequestBounds` calls :func:`api_key_check` for every
path under ``/api/v1`` except the public ones (the OpenAPI document, the docs page), from
the headers alone: a missing or unknown key is answered 401 without reading a byte of the
body. The endpoint dependency :func:`wxqr.web.api._context.require_api_key` still checks
the key as before; the key found here is left in ``request.state.api_key`` (ASGI
``scope["state"]["api_key"]``) for code that wants it without a second lookup.
"""

from __future__ import annotations

import re

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from wxqr.web.api._problems import problem

__all__ = ["PUBLIC_PATHS", "PUBLIC_PATH_PATTERNS", "api_key_check", "presented_key"]

#: Paths under the API prefix that need no key.
PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")
#: scan-sessions: the browser's poll URLs (they take the session's poll token instead).
PUBLIC_PATH_PATTERNS = (re.compile(r"^/api/v1/scan-sessions/[^/]+/status(/events)?$"),)

_MISSING = (
    "an API key is required: send it in the X-API-Key header "
    "(or Authorization: Bearer); make one with `wxqr apikey create --name NAME`"
)
_INVALID = "the API key is not valid (unknown or revoked)"


def presented_key(request: Request) -> str | None:
    """The key the request presents: ``X-API-Key``, else an ``Authorization: Bearer``."""
    header_key = request.headers.get("x-api-key", "").strip()
    if header_key:
        return header_key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


async def api_key_check(scope: Scope) -> Response | None:
    """``None`` when the request presents an active API key, else its 401 problem."""
    request = Request(scope)
    path = request.url.path
    presented = presented_key(request)
    if presented is None:
        return problem(
            401, _MISSING, instance=path, headers={"WWW-Authenticate": 'Bearer realm="wxqr"'}
        )
    workspace = request.app.state.runtime.workspace
    key = await anyio.to_thread.run_sync(workspace.api_keys.authenticate, presented)
    if key is None:
        return problem(
            401,
            _INVALID,
            instance=path,
            headers={"WWW-Authenticate": 'Bearer realm="wxqr", error="invalid_token"'},
        )
    scope.setdefault("state", {})["api_key"] = key
    return None
