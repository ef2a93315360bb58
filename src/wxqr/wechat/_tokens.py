"""Access tokens that never fight: sources, single flight, refresh ahead, compare-and-expire.

Policy (see docs/client.md):

* A cached token with more than ``refresh_margin`` seconds left is used as is.
* Otherwise one caller refreshes: an ``asyncio.Lock`` per manager serialises coroutines,
  the cache's lease (Redis ``SET NX PX`` / database row) serialises processes and hosts.
  The cache is re-read after taking each lock, so waiters pick up the winner's token.
  While someone else refreshes, a token that is still valid is used; without one, the
  caller polls the cache for at most ``lock_wait`` seconds (:class:`TokenRefreshTimeout`).
* :meth:`TokenManager.invalidate` drops a token WeChat rejected only if the cache still
  holds that same token (compare-and-expire); a token another worker refreshed stays.
* ``force_refresh`` is only ever sent by an explicit :meth:`TokenManager.refresh` call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ._cache import CachedToken, TokenCache
from ._config import ClientConfig, TokenSource
from ._errors import InvalidCredentials, InvalidToken, TokenRefreshTimeout, UnexpectedResponse
from ._http import Sleep, WeChatHTTP

__all__ = ["TokenManager", "fetch_token"]

logger = logging.getLogger("wxqr.wechat")

Clock = Callable[[], float]
Fetch = Callable[[bool], Awaitable[CachedToken]]

#: A token with less than this many seconds left is not handed out.
USABLE_SAFETY = 5.0
#: A non-forced refresh is not repeated within this many seconds while the token is valid.
MIN_REFRESH_INTERVAL = 30.0


async def fetch_token(
    http: WeChatHTTP, config: ClientConfig, force_refresh: bool, now: float
) -> CachedToken:
    """Ask WeChat for a token from the configured source."""
    if config.token_source is TokenSource.STABLE:
        body = await http.call(
            "POST",
            config.api_base,
            "/cgi-bin/stable_token",
            body={
                "grant_type": "client_credential",
                "appid": config.appid,
                "secret": config.secret,
                "force_refresh": force_refresh,
            },
        )
    else:
        params = {"grant_type": "client_credential", "appid": config.appid}
        params["secret"] = config.secret
        try:
            body = await http.call("GET", config.api_base, "/cgi-bin/token", params=params)
        except InvalidToken as exc:
            # On this endpoint 40001 means "AppSecret wrong or not this account's".
            raise InvalidCredentials(exc.errcode, exc.errmsg, exc.rid) from None
    value = body.get("access_token")
    expires_in = body.get("expires_in")
    if not isinstance(value, str) or not value or len(value) > 512:
        raise UnexpectedResponse("token response lacks a valid access_token")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise UnexpectedResponse("token response lacks a valid expires_in")
    return CachedToken(value, int((now + expires_in) * 1000))


class TokenManager:
    """Hands out the access token of one appid, refreshing it at most once at a time."""

    def __init__(
        self,
        config: ClientConfig,
        cache: TokenCache,
        fetch: Fetch,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._config = config
        self._cache = cache
        self._fetch = fetch
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._last_fetch = float("-inf")
        self.fetches = 0  #: tokens this manager fetched from WeChat

    def __repr__(self) -> str:
        return f"TokenManager(appid={self._config.appid!r}, cache={self._cache!r})"

    @property
    def cache(self) -> TokenCache:
        return self._cache

    def _fresh(self, token: CachedToken | None) -> bool:
        return token is not None and token.remaining(self._clock()) > self._config.refresh_margin

    def _usable(self, token: CachedToken | None) -> bool:
        return token is not None and token.remaining(self._clock()) > USABLE_SAFETY

    def _recently_fetched(self) -> bool:
        return self._clock() - self._last_fetch < MIN_REFRESH_INTERVAL

    async def get(self) -> str:
        """A valid access token, refreshed ahead of expiry by at most one worker."""
        cached = await self._cache.get(self._config.appid)
        if self._fresh(cached) or (self._usable(cached) and self._lock.locked()):
            assert cached is not None
            return cached.value
        async with self._lock:
            return (await self._obtain(renew=False, force_refresh=False)).value

    async def refresh(self, *, force_refresh: bool = False) -> str:
        """Fetch a new token now (under the same locks). ``force_refresh=True`` asks the
        stable_token endpoint to renew it: WeChat allows that 20 times a day, 30 s apart."""
        async with self._lock:
            return (await self._obtain(renew=True, force_refresh=force_refresh)).value

    async def invalidate(self, value: str) -> bool:
        """Compare-and-expire: drop ``value`` only if the cache still holds it."""
        dropped = await self._cache.expire_if(self._config.appid, value)
        logger.info(
            "appid %s: rejected token %s",
            self._config.appid,
            "dropped" if dropped else "already replaced",
        )
        return dropped

    async def _obtain(self, *, renew: bool, force_refresh: bool) -> CachedToken:
        """The cached token unless ``renew`` or it needs refreshing; else a fetched one."""
        appid = self._config.appid
        deadline = time.monotonic() + self._config.lock_wait
        while True:
            cached = await self._cache.get(appid)
            if not renew and self._fresh(cached):
                assert cached is not None
                return cached
            if not renew and self._usable(cached) and self._recently_fetched():
                assert cached is not None
                return cached
            lease = await self._cache.try_lock(appid, self._config.lock_ttl)
            if lease is not None:
                break
            if not renew and self._usable(cached):
                assert cached is not None
                return cached  # another worker is refreshing ahead of expiry
            if time.monotonic() >= deadline:
                raise TokenRefreshTimeout(
                    f"appid {appid}: no token after waiting {self._config.lock_wait:g} s "
                    "for another worker's refresh"
                )
            await self._sleep(self._config.lock_poll)
        try:
            latest = await self._cache.get(appid)  # re-read: the last holder may have written
            if not renew and self._fresh(latest):
                assert latest is not None
                return latest
            token = await self._fetch(force_refresh)
            self.fetches += 1
            self._last_fetch = self._clock()
            logger.info("appid %s: fetched a new access token", appid)
            if not await self._cache.put(appid, token, lease):
                newer = await self._cache.get(appid)
                if self._usable(newer):
                    assert newer is not None
                    return newer
            return token
        finally:
            await self._cache.unlock(appid, lease)
