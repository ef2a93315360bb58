"""What every API endpoint depends on: an API key, and the workspace limited to its scope.

``WS`` (the workspace parameter of every data endpoint) is the app's workspace *scoped*
to the request's key (:meth:`Workspace.scoped`): objects of other accounts are not found
(404), lists hold the key's accounts only, and writes with a read-only key are forbidden
(403). The scope is enforced in the service layer; :func:`require_api_key` also refuses
a read-only key's unsafe methods (POST, PUT, PATCH, DELETE) before the body is validated, so
the answer is 403 whatever the body. See docs/security.md, "API keys and scopes".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from wxqr.service.apikeys import ApiKey
from wxqr.service.workspace import Workspace

__all__ = ["WS", "AdminWS", "require_api_key", "scoped_workspace", "workspace"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key made with `wxqr apikey create --name NAME`.",
)
_bearer = HTTPBearer(
    auto_error=False, description="The same API key as a bearer token (Authorization header)."
)


def workspace(request: Request) -> Workspace:
    """The workspace of the app's runtime (built once, by :class:`wxqr.runtime.Runtime`)."""
    found: Workspace = request.app.state.runtime.workspace
    return found


def require_api_key(
    request: Request,
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
    if key.scope.read_only and request.method not in _SAFE_METHODS:
        raise HTTPException(
            403, f"the API key {key.name!r} is read-only: it cannot change anything"
        )
    return key


def scoped_workspace(
    ws: Annotated[Workspace, Depends(workspace)],
    key: Annotated[ApiKey, Depends(require_api_key)],
) -> Workspace:
    """The app's workspace limited to the request's API key's scope."""
    return ws.scoped(key.scope)


#: The workspace parameter of a REST endpoint: ``ws: WS`` (scoped to the request's key).
WS = Annotated[Workspace, Depends(scoped_workspace)]

#: The whole workspace, for the dashboard (its admin sees every account).
AdminWS = Annotated[Workspace, Depends(workspace)]
