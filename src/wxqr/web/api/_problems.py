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

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from wxqr.service.bulk import BulkImportError
from wxqr.service.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    LimitReachedError,
    NotFoundError,
    ServiceError,
    TooManyRequestsError,
    UnavailableError,
    UpstreamError,
)
from wxqr.web.request_bounds import BodyTooLarge

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "TYPE_BASE",
    "ProblemDetails",
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


class ValidationIssue(BaseModel):
    """One reason a request did not match the API (in a 422's ``errors``)."""

    location: list[str] = Field(description='Where: e.g. ["query", "limit"], ["body", "name"].')
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document: the body of every error of the REST API."""

    type: str = Field(description="A URL naming the kind of problem (docs/api.md).")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, for a person.")
    instance: str | None = Field(default=None, description="The path of the request.")
    field: str | None = Field(default=None, description="The input at fault, when one is.")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="422 for a request not matching the API: every mismatch."
    )
    created: list[int] | None = Field(
        default=None, description="CSV import stopped part way: the channels already made."
    )


_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
_DOCUMENTED = {
    400: "The request cannot be read (e.g. a body that is not UTF-8 or a broken form)",
    401: "No API key, or one that is unknown or revoked",
    403: "The API key may not do this",
    404: "No such account, channel, code or path",
    409: "The change clashes with what is stored, or a WeChat limit is reached",
    413: "The request body is larger than allowed",
    422: "The request does not match the API, or its values cannot be used",
    429: "Too many requests: try again later",
    502: "WeChat could not be reached or refused the call",
    503: "Something wxqr needs is unavailable: try again later",
}

#: The error responses every data operation declares (``responses=`` of the API's
#: router): each an ``application/problem+json`` :class:`ProblemDetails`.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}
    for status, text in _DOCUMENTED.items()
}

_SERVICE_STATUS: tuple[tuple[type[ServiceError], int, str], ...] = (
    (ForbiddenError, 403, "forbidden"),  # b-auth: read-only API keys
    (NotFoundError, 404, "not-found"),
    (ConflictError, 409, "conflict"),
    (LimitReachedError, 409, "limit-reached"),
    (InvalidInputError, 422, "invalid-input"),
    (TooManyRequestsError, 429, "too-many-requests"),  # scan-sessions: rate limits
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
    if isinstance(exc, BodyTooLarge):  # RequestBounds answers 413 itself
        return problem(413, str(exc), instance=path)
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
    if isinstance(exc, HTTPException):  # FastAPI's and Starlette's (body and form parsing)
        headers = dict(exc.headers) if exc.headers else None
        detail = str(exc.detail)
        if isinstance(exc.__cause__, UnicodeDecodeError):
            detail = "the request body is not UTF-8 text"
        return problem(exc.status_code, detail, instance=path, headers=headers)
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
