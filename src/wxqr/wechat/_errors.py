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

Every error says whether trying again can help: ``permanent`` is true when the same call
will fail the same way until someone changes something (an unknown openid, a wrong appid,
a full permanent-code quota…), ``retryable`` is its opposite. Transport failures, a busy
WeChat (-1), quotas (45009/45011, a later try succeeds) and token errors are retryable; an
errcode wxqr does not know is retryable too, so an unknown hiccup never loses a job.

Messages, reprs and log lines never contain the app secret or an access token: WeChat's
``errmsg`` is redacted before it is stored, and transport failures keep only the
exception type and a redacted message, never the request URL (it carries the token).
"""

from __future__ import annotations

import re

__all__ = [
    "PERMANENT_ERRCODES",
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
#: Errcodes that the same request will get again: retrying is pointless.
PERMANENT_ERRCODES = frozenset(
    {
        40002,  # invalid grant_type
        40003,  # invalid openid (not a follower of this account, or another app's)
        40013,  # invalid appid
        40032,  # invalid openid list size
        40053,  # invalid action info
        40097,  # invalid args
        40125,  # invalid appsecret
        40164,  # caller IP not in the account's whitelist
        41002,  # appid missing
        41004,  # appsecret missing
        43001,  # require GET
        43002,  # require POST
        44002,  # empty post data
        45029,  # 100,000 permanent codes reached
        45056,  # too many tags
        45057,  # tag has too many fans to delete
        45058,  # system tag cannot be changed
        45059,  # too many tags on the user
        45157,  # invalid (or taken) tag name
        45158,  # tag name too long
        45159,  # invalid tag id
        46004,  # user does not exist
        47001,  # data format error
        48001,  # API not authorised for this account
        49003,  # openid and appid do not match
        50001,  # user has not authorised the API
        50002,  # user restricted
        61500,  # date format error
        61501,  # date range error
    }
)

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

    @property
    def permanent(self) -> bool:
        """True when trying the same call again cannot succeed (do not retry)."""
        return False

    @property
    def retryable(self) -> bool:
        """True when a later try of the same call may succeed."""
        return not self.permanent


class ConfigurationError(WeChatError, ValueError):
    """A client setting is missing or invalid."""

    @property
    def permanent(self) -> bool:
        return True


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

    @property
    def permanent(self) -> bool:
        return self.errcode in PERMANENT_ERRCODES

    def __repr__(self) -> str:
        return f"{type(self).__name__}(errcode={self.errcode!r}, errmsg={self.errmsg!r})"

    def __reduce__(self) -> tuple[type[APIError], tuple[int, str, str | None]]:
        return (type(self), (self.errcode, self.errmsg, self.rid))


class InvalidToken(APIError, TokenError):
    """40001 / 40014 / 42001 / 41001: the access token was rejected (after one retry)."""


class InvalidCredentials(APIError, TokenError):
    """40013 (invalid appid) or 40125 (invalid app secret); permanent whatever the errcode
    (``/cgi-bin/token`` answers a wrong secret with 40001)."""

    @property
    def permanent(self) -> bool:
        return True


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
