"""The WeChat API client: the only place wxqr talks to WeChat.

``WeChatClient`` (async) and ``SyncWeChatClient`` (blocking facade), configured by
``ClientConfig``; access tokens shared through a ``TokenCache`` (memory and Redis here;
wxqr's database cache is ``wxqr.service.token_cache.DatabaseTokenCache``, since this
package knows no storage) and refreshed by exactly one worker at a time; typed results
and one error tree (``WeChatError``). See docs/client.md.
"""

from ._cache import CachedToken, Lease, MemoryTokenCache, TokenCache
from ._client import (
    BATCH_TAG_LIMIT,
    MAX_TAG_NAME_LENGTH,
    USER_SUMMARY_MAX_DAYS,
    WeChatClient,
    date_chunks,
)
from ._config import DEFAULT_API_BASE, DEFAULT_MP_BASE, ClientConfig, TokenSource
from ._errors import (
    PERMANENT_ERRCODES,
    TOKEN_ERRCODES,
    APIError,
    ConfigurationError,
    InvalidCredentials,
    InvalidToken,
    PermanentQRLimitReached,
    QuotaExceeded,
    SystemBusy,
    TokenError,
    TokenRefreshTimeout,
    TransportError,
    UnexpectedResponse,
    WeChatError,
)
from ._models import ApiQuota, QRTicket, Tag, UserCumulateRow, UserInfo, UserSummaryRow
from ._observe import CallObserver, observe_calls
from ._redis_cache import RedisTokenCache
from ._sync import SyncWeChatClient
from ._tokens import TokenManager

__all__ = [
    "BATCH_TAG_LIMIT",
    "DEFAULT_API_BASE",
    "DEFAULT_MP_BASE",
    "MAX_TAG_NAME_LENGTH",
    "PERMANENT_ERRCODES",
    "TOKEN_ERRCODES",
    "USER_SUMMARY_MAX_DAYS",
    "APIError",
    "ApiQuota",
    "CachedToken",
    "CallObserver",
    "ClientConfig",
    "ConfigurationError",
    "InvalidCredentials",
    "InvalidToken",
    "Lease",
    "MemoryTokenCache",
    "PermanentQRLimitReached",
    "QRTicket",
    "QuotaExceeded",
    "RedisTokenCache",
    "SyncWeChatClient",
    "SystemBusy",
    "Tag",
    "TokenCache",
    "TokenError",
    "TokenManager",
    "TokenRefreshTimeout",
    "TokenSource",
    "TransportError",
    "UnexpectedResponse",
    "UserCumulateRow",
    "UserInfo",
    "UserSummaryRow",
    "WeChatClient",
    "WeChatError",
    "date_chunks",
    "observe_calls",
]
