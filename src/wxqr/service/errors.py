"""The one error tree of the service layer.

Every error a service raises on purpose is a :class:`ServiceError`; adapters catch that
one family and map it in one place each: the REST API to RFC 9457 problem documents
(``web/api/_problems.py``: Forbidden 403, NotFound 404, Conflict 409, LimitReached 409, InvalidInput
422, Upstream 502, Unavailable 503), the CLI to a red one-line message and exit code 1
(``cli/_ws.py``), the dashboard to an error page (``web/dashboard/_errors.py``).

The account, stats, reply and bulk-import errors are subclasses of these (an unknown
account is a :class:`NotFoundError` everywhere). Errors of the WeChat client
(:class:`wxqr.wechat.WeChatError`) never leave the service layer as such: services turn
them into :class:`UpstreamError` with :func:`upstream_error`, which says whether WeChat
could not be reached or refused. Messages are written for a person and never hold a
secret.
"""

from __future__ import annotations

from wxqr.wechat import TokenRefreshTimeout, TransportError, UnexpectedResponse, WeChatError

__all__ = [
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "LimitReachedError",
    "NotFoundError",
    "ServiceError",
    "TooManyRequestsError",
    "UnavailableError",
    "UpstreamError",
    "upstream_error",
]


class ServiceError(Exception):
    """Base of every error the services raise on purpose.

    ``title`` is a short, stable summary of the kind of problem; ``detail`` (also
    ``str(error)``) says what happened to this request; ``field`` names the input at
    fault, when one is.
    """

    title = "Service error"
    field: str | None = None

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if field is not None:
            self.field = field


class ForbiddenError(ServiceError):
    """The caller may see the thing but not do this to it (a read-only API key writing)."""

    title = "Forbidden"


class NotFoundError(ServiceError):
    """The thing asked for (account, channel, code, key...) does not exist."""

    title = "Not found"


class ConflictError(ServiceError):
    """The change clashes with what is stored (a name or scene already taken...)."""

    title = "Conflict"


class InvalidInputError(ServiceError):
    """The caller's input cannot be used as given (the detail says why)."""

    title = "Invalid input"


class LimitReachedError(ServiceError):
    """A WeChat limit would be exceeded (e.g. 100,000 permanent codes per account)."""

    title = "Limit reached"


class TooManyRequestsError(ServiceError):
    """The caller asked too often (e.g. scan sessions per account per minute): try later."""

    title = "Too many requests"


class UpstreamError(ServiceError):
    """WeChat (or the emulator standing in for it) could not be reached or refused a call."""

    title = "WeChat call failed"


class UnavailableError(ServiceError):
    """Something wxqr needs is not available right now (try again later)."""

    title = "Unavailable"


def upstream_error(exc: WeChatError, doing: str) -> UpstreamError:
    """The :class:`UpstreamError` for a failed WeChat call made to ``doing`` (e.g. "issue
    the code"): "could not reach WeChat" for network failures and timeouts, "WeChat
    refused" for answers with an error code. The client's messages hold no secret."""
    if isinstance(exc, UnexpectedResponse):
        return UpstreamError(f"WeChat gave an unexpected answer when asked to {doing}: {exc}")
    if isinstance(exc, TransportError | TokenRefreshTimeout):
        return UpstreamError(f"could not reach WeChat to {doing}: {exc}")
    return UpstreamError(f"WeChat refused to {doing}: {exc}")
