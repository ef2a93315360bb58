"""WeChat clients for the accounts in the store, built from their stored credentials.

Each call gets its own :class:`~wxqr.wechat.SyncWeChatClient` (it runs a private event
loop, so one instance must not be shared between threads); access tokens are shared
through the database token cache (or Redis when configured), so a new client does not
mean a new token.
"""

from __future__ import annotations

from sqlalchemy import Engine

from wxqr.service.accounts import Account
from wxqr.service.errors import InvalidInputError
from wxqr.settings import Settings
from wxqr.wechat import (
    DEFAULT_API_BASE,
    DEFAULT_MP_BASE,
    ClientConfig,
    DatabaseTokenCache,
    RedisTokenCache,
    SyncWeChatClient,
    TokenCache,
)

__all__ = ["WeChatClients"]


class WeChatClients:
    """Makes a client for an account: ``with clients.client(account) as c: ...``."""

    def __init__(
        self,
        engine: Engine,
        *,
        api_base: str | None = None,
        mp_base: str | None = None,
        redis_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._engine = engine
        self._api_base = api_base or DEFAULT_API_BASE
        self._mp_base = mp_base or DEFAULT_MP_BASE
        self._redis_url = redis_url
        self._timeout = timeout

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> WeChatClients:
        return cls(
            engine,
            api_base=settings.wechat_api_base,
            mp_base=settings.wechat_mp_base,
            redis_url=settings.redis_url,
        )

    @property
    def mp_base(self) -> str:
        return self._mp_base

    def client(self, account: Account) -> SyncWeChatClient:
        if not account.app_secret:
            raise InvalidInputError(
                f"account {account.appid} has no app secret: wxqr cannot call WeChat for it",
                field="account",
            )
        config = ClientConfig(
            appid=account.appid,
            secret=account.app_secret,
            api_base=self._api_base,
            mp_base=self._mp_base,
            timeout=self._timeout,
            redis_url=self._redis_url,
        )
        cache: TokenCache
        if self._redis_url:
            cache = RedisTokenCache.from_url(self._redis_url)
        else:
            cache = DatabaseTokenCache(self._engine)
        return SyncWeChatClient(config, cache=cache)
