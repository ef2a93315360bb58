"""Errors of the channel, code, API-key and admin services.

Adapters map them to what their users see: the REST API to RFC 9457 problem documents
(NotFound 404, Conflict 409, InvalidInput 422, LimitReached 409, Upstream 502), the CLI
to a red message and a non-zero exit. Messages are written for a person and never hold a
secret.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "LimitReachedError",
    "NotFoundError",
    "ServiceError",
    "UpstreamError",
]


class ServiceError(Exception):
    """Base of every error the channel services raise on purpose.

    ``title`` is a short, stable summary of the kind of problem; ``str(error)`` (the
    detail) says what happened to this request.
    """

    title = "Service error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFoundError(ServiceError):
    title = "Not found"


class ConflictError(ServiceError):
    title = "Conflict"


class InvalidInputError(ServiceError):
    title = "Invalid input"


class LimitReachedError(ServiceError):
    """A WeChat limit would be exceeded (e.g. 100,000 permanent codes per account)."""

    title = "Limit reached"


class UpstreamError(ServiceError):
    """WeChat (or the emulator standing in for it) refused or failed a call."""

    title = "WeChat call failed"
