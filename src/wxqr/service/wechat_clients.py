"""WeChat clients for the accounts in the store: wxqr's one client factory.

Every part of wxqr that calls WeChat (the code and image services, the background worker,
the reservation chore) gets its clients from the one :class:`WeChatClients` the runtime
builds (:mod:`wxqr.runtime`), so all of them use the same API bases, timeout, token
source and token cache.

Each call gets its own :class:`~wxqr.wechat.SyncWeChatClient` (it runs a private event
loop, so one instance must not be shared between threads); access tokens are shared
through the database token cache, or Redis when ``WXQR_REDIS_URL`` is set, so a new
client does not mean a new token. Which cache is chosen once, when the factory is built.
"""

from __future__ import annotations

from sqlalchemy import Engine

from wxqr.service.accounts import Account
from wxqr.service.errors import InvalidInputError
from wxqr.service.token_cache import DatabaseTokenCache
from wxqr.settings import Settings
from wxqr.wechat import (
    DEFAULT_API_BASE,
    DEFAULT_MP_BASE,
    ClientConfig,
    SyncWeChatClient,
    TokenSource,
    WeChatError,
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
        token_source: TokenSource | str = TokenSource.STABLE,
    ) -> None:
        self._api_base = api_base or DEFAULT_API_BASE
        self._mp_base = mp_base or DEFAULT_MP_BASE
        self._redis_url = redis_url
        self._timeout = timeout
        self._token_source = TokenSource(token_source)
        # With Redis each client opens (and closes) its own Redis cache from
        # ``config.redis_url``: an asyncio Redis pool belongs to one event loop, and every
        # SyncWeChatClient runs its own. The database cache is stateless: one serves all.
        self._database_cache = None if redis_url else DatabaseTokenCache(engine)

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> WeChatClients:
        """The factory of ``settings``' WeChat section (``WXQR_WECHAT_*``, ``WXQR_REDIS_URL``)."""
        return cls(
            engine,
            api_base=settings.wechat_api_base,
            mp_base=settings.wechat_mp_base,
            redis_url=settings.redis_url,
            timeout=settings.wechat_timeout,
            token_source=settings.wechat_token_source,
        )

    def __repr__(self) -> str:
        return (
            f"WeChatClients(api_base={self._api_base!r}, token_source="
            f"{self._token_source.value!r}, token_cache={self.token_cache_kind!r})"
        )

    @property
    def mp_base(self) -> str:
        return self._mp_base

    @property
    def token_cache_kind(self) -> str:
        """``"redis"`` or ``"database"``: where the clients share access tokens."""
        return "redis" if self._redis_url else "database"

    def config(self, account: Account) -> ClientConfig:
        """The client settings for ``account`` (its stored credentials)."""
        if not account.app_secret:
            raise InvalidInputError(
                f"account {account.appid} has no app secret: wxqr cannot call WeChat for it",
                field="account",
            )
        return ClientConfig(
            appid=account.appid,
            secret=account.app_secret,
            api_base=self._api_base,
            mp_base=self._mp_base,
            timeout=self._timeout,
            token_source=self._token_source,
            redis_url=self._redis_url,
        )

    def client(self, account: Account) -> SyncWeChatClient:
        """A new client for ``account`` (close it: ``with clients.client(a) as c``)."""
        return SyncWeChatClient(self.config(account), cache=self._database_cache)

    def job_client(self, account: Account) -> SyncWeChatClient:
        """:meth:`client` for the background worker: an account it cannot call WeChat for
        is a :class:`~wxqr.wechat.WeChatError`, which fails (and retries) the job."""
        if not account.app_secret:
            raise WeChatError("the account has no app secret")
        return self.client(account)
