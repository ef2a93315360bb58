"""What every API endpoint depends on: the workspace of the app, and an API key."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from wxqr.service.apikeys import ApiKey
from wxqr.service.workspace import Workspace

__all__ = ["WS", "require_api_key", "workspace"]

_lock = threading.Lock()

_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key made with `wxqr apikey create --name NAME`.",
)
_bearer = HTTPBearer(
    auto_error=False, description="The same API key as a bearer token (Authorization header)."
)


def workspace(request: Request) -> Workspace:
    """The app's workspace, built on first use from ``app.state.engine`` and ``settings``."""
    state = request.app.state
    found = getattr(state, "wxqr_workspace", None)
    if isinstance(found, Workspace):
        return found
    with _lock:
        found = getattr(state, "wxqr_workspace", None)
        if not isinstance(found, Workspace):
            found = Workspace.open(
                state.engine, state.settings, catalog=getattr(state, "catalog", None)
            )
            state.wxqr_workspace = found
    return found


def require_api_key(
    ws: Annotated[Workspace, Depends(workspace)],
    header_key: Annotated[str | None, Security(_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> ApiKey:
    presented = header_key or (bearer.credentials if bearer is not None else None)
    if not presented:
        raise HTTPException(
            401,
            "an API key is required: send it in the X-API-Key header "
            "(or Authorization: Bearer); make one with `wxqr apikey create --name NAME`",
            headers={"WWW-Authenticate": 'Bearer realm="wxqr"'},
        )
    key = ws.api_keys.authenticate(presented)
    if key is None:
        raise HTTPException(
            401,
            "the API key is not valid (unknown or revoked)",
            headers={"WWW-Authenticate": 'Bearer realm="wxqr", error="invalid_token"'},
        )
    return key


#: The workspace parameter of an endpoint: ``ws: WS``.
WS = Annotated[Workspace, Depends(workspace)]
