"""Errors raised by the WeChat client: one tree, so callers can catch at any level::

    WeChatError                        base of everything raised by wxqr.wechat
    ├── ConfigurationError             missing or invalid client settings (also ValueError)
    ├── TransportError                 the exchange failed: network error, timeout, HTTP
    │   │                              status other than 200, unusable content type
    │   └── UnexpectedResponse         a 200 whose body is not what WeChat documents
    ├── TokenError                     no usable access token could be had
    │   └── TokenRefreshTimeout        another worker held the refresh lock past the wait
    └── APIError(errcode, errmsg, rid) WeChat answered with a non-zero errcode
        ├── InvalidToken               40001 / 40014 / 42001 / 41001 (also a TokenError),
        │                              raised only after the one automatic retry
        ├── InvalidCredentials         40013 invalid appid, 40125 invalid secret (and
        │                              40001 from /cgi-bin/token: wrong secret)
        │                              (also a TokenError)
        ├── QuotaExceeded              45009 daily / 45011 per-minute quota; never retried
        ├── PermanentQRLimitReached    45029: the account holds 100,000 permanent codes
        └── SystemBusy                 -1 still answered after the bounded retries

Messages, reprs and log lines never contain the app secret or an access token: WeChat's
``errmsg`` is redacted before it is stored, and transport failures keep only the
exception type and a redacted message, never the request URL (it carries the token).
"""

from __future__ import annotations

import re

__all__ = [
    "TOKEN_ERRCODES",
    "APIError",
    "ConfigurationError",
    "InvalidCredentials",
    "InvalidToken",
    "PermanentQRLimitReached",
    "QuotaExceeded",
    "SystemBusy",
    "TokenError",
    "TokenRefreshTimeout",
    "TransportError",
    "UnexpectedResponse",
    "WeChatError",
    "api_error",
    "redact",
]

#: Errcodes meaning "this access token is bad: refresh and retry once".
TOKEN_ERRCODES = frozenset({40001, 40014, 42001, 41001})
CREDENTIAL_ERRCODES = frozenset({40013, 40125})
QUOTA_ERRCODES = frozenset({45009, 45011})
PERMANENT_LIMIT_ERRCODE = 45029
BUSY_ERRCODE = -1

_RID = re.compile(r"rid:\s*([0-9A-Za-z-]+)")
_QUERY_SECRET = re.compile(r"((?:access_token|secret)=)[^&\s\"']+")
REDACTED = "***"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every given secret and every ``access_token=``/``secret=`` value hidden."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _QUERY_SECRET.sub(r"\1" + REDACTED, text)


class WeChatError(Exception):
    """Base class of every error raised by :mod:`wxqr.wechat`."""


class ConfigurationError(WeChatError, ValueError):
    """A client setting is missing or invalid."""


class TransportError(WeChatError):
    """The HTTP exchange with WeChat failed before an errcode could be read."""


class UnexpectedResponse(TransportError):
    """WeChat answered 200 with a body that does not match its documentation."""


class TokenError(WeChatError):
    """No usable access token could be obtained."""


class TokenRefreshTimeout(TokenError):
    """Waited the configured time for another worker's refresh without seeing a token."""


class APIError(WeChatError):
    """WeChat answered with a non-zero ``errcode``.

    ``errmsg`` is WeChat's message with secrets redacted; ``rid`` is the request id WeChat
    appends to it (``None`` when absent), to quote when asking WeChat support.
    """

    def __init__(self, errcode: int, errmsg: str, rid: str | None = None) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.rid = rid

    def __repr__(self) -> str:
        return f"{type(self).__name__}(errcode={self.errcode!r}, errmsg={self.errmsg!r})"

    def __reduce__(self) -> tuple[type[APIError], tuple[int, str, str | None]]:
        return (type(self), (self.errcode, self.errmsg, self.rid))


class InvalidToken(APIError, TokenError):
    """40001 / 40014 / 42001 / 41001: the access token was rejected (after one retry)."""


class InvalidCredentials(APIError, TokenError):
    """40013 (invalid appid) or 40125 (invalid app secret)."""


class QuotaExceeded(APIError):
    """45009 (daily quota) or 45011 (per-minute quota): wait, do not retry now."""


class PermanentQRLimitReached(APIError):
    """45029: the account already holds the 100,000 permanent codes WeChat allows."""


class SystemBusy(APIError):
    """-1 (system busy) was still the answer after the bounded retries."""


def api_error(errcode: int, errmsg: str, secrets: tuple[str, ...] = ()) -> APIError:
    """The typed error for a WeChat ``errcode`` (secrets redacted from ``errmsg``)."""
    message = redact(errmsg, secrets)
    match = _RID.search(message)
    rid = match.group(1) if match else None
    cls: type[APIError]
    if errcode in TOKEN_ERRCODES:
        cls = InvalidToken
    elif errcode in CREDENTIAL_ERRCODES:
        cls = InvalidCredentials
    elif errcode in QUOTA_ERRCODES:
        cls = QuotaExceeded
    elif errcode == PERMANENT_LIMIT_ERRCODE:
        cls = PermanentQRLimitReached
    elif errcode == BUSY_ERRCODE:
        cls = SystemBusy
    else:
        cls = APIError
    return cls(errcode, message, rid)
