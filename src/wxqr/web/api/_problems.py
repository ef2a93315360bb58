"""Errors as RFC 9457 problem documents (``application/problem+json``).

Every error of the REST API, whatever raised it (a service, validation, authentication,
an unknown path), is answered with ``{"type", "title", "status", "detail", "instance"}``
plus, where useful, ``field`` (the input at fault) or ``errors`` (validation details).
The route class below converts errors inside the router, so the API's errors look the
same whichever app includes it. The service layer raises one family,
:class:`wxqr.service.errors.ServiceError`; its mapping to statuses is the table
``_SERVICE_STATUS`` below, the only one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from wxqr.service.bulk import BulkImportError
from wxqr.service.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    LimitReachedError,
    NotFoundError,
    ServiceError,
    UnavailableError,
    UpstreamError,
)

__all__ = [
    "PROBLEM_JSON",
    "TYPE_BASE",
    "ProblemRoute",
    "problem",
    "problem_for",
    "service_status",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://github.com/wxqr/wxqr/blob/main/docs/api.md#problem-"

_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request too large"),
    422: ("invalid-input", "Invalid input"),
    500: ("internal", "Internal error"),
    502: ("upstream", "WeChat call failed"),
    503: ("unavailable", "Unavailable"),
}

_SERVICE_STATUS: tuple[tuple[type[ServiceError], int, str], ...] = (
    (ForbiddenError, 403, "forbidden"),  # b-auth: read-only API keys
    (NotFoundError, 404, "not-found"),
    (ConflictError, 409, "conflict"),
    (LimitReachedError, 409, "limit-reached"),
    (InvalidInputError, 422, "invalid-input"),
    (UpstreamError, 502, "upstream"),
    (UnavailableError, 503, "unavailable"),
)


def service_status(exc: ServiceError) -> tuple[int, str]:
    """The HTTP status (and problem type slug) of a service error: the one table, also
    used by the dashboard's error pages."""
    for kind, status, slug in _SERVICE_STATUS:
        if isinstance(exc, kind):
            return status, slug
    return 400, "bad-request"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    slug: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    default_slug, default_title = _STATUS_SLUGS.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or default_slug),
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    found = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        found.append({"location": location, "message": str(error.get("msg", ""))})
    return found


def problem_for(exc: Exception, request: Request) -> JSONResponse | None:
    """The problem response for ``exc``, or ``None`` for an unexpected error."""
    path = request.url.path
    if isinstance(exc, BulkImportError):  # answered as what stopped it, with what was kept
        response = problem_for(exc.reason, request)
        if response is not None:
            kept = [c.channel.id for c in exc.created]
            status = response.status_code
            return problem(status, exc.detail, title=exc.title, instance=path, created=kept)
    if isinstance(exc, ServiceError):
        status, slug = service_status(exc)
        return problem(
            status, exc.detail, title=exc.title, slug=slug, instance=path, field=exc.field
        )
    if isinstance(exc, RequestValidationError):
        return problem(
            422,
            "the request does not match the API: see errors",
            instance=path,
            errors=_validation_errors(exc),
        )
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, str(exc.detail), instance=path, headers=headers)
    return None


class ProblemRoute(APIRoute):
    """An API route whose errors come back as problem documents."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:
                response = problem_for(exc, request)
                if response is None:
                    log.exception("unexpected error on %s %s", request.method, request.url.path)
                    return problem(500, "an unexpected error occurred", instance=request.url.path)
                return response

        return handler
