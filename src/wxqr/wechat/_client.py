"""The asynchronous WeChat client: QR tickets and images, user info, tags, datacube."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from types import TracebackType
from typing import Any, Self

import httpx

from wxqr.protocol import QRRequest
from wxqr.protocol import show_url as _show_url

from ._cache import CachedToken, MemoryTokenCache, TokenCache
from ._config import ClientConfig
from ._errors import InvalidToken, UnexpectedResponse
from ._http import Sleep, WeChatHTTP
from ._models import ApiQuota, QRTicket, Tag, UserCumulateRow, UserInfo, UserSummaryRow
from ._tokens import Clock, TokenManager, fetch_token

__all__ = [
    "BATCH_TAG_LIMIT",
    "MAX_TAG_NAME_LENGTH",
    "USER_SUMMARY_MAX_DAYS",
    "WeChatClient",
    "date_chunks",
]

USER_SUMMARY_MAX_DAYS = 7
BATCH_TAG_LIMIT = 50
MAX_TAG_NAME_LENGTH = 30


def date_chunks(
    begin: date, end: date, days: int = USER_SUMMARY_MAX_DAYS
) -> Iterator[tuple[date, date]]:
    """Split the inclusive range ``begin..end`` into inclusive ranges of at most ``days``."""
    if end < begin:
        raise ValueError(f"end {end} is before begin {begin}")
    start = begin
    while start <= end:
        stop = min(end, start + timedelta(days=days - 1))
        yield start, stop
        start = stop + timedelta(days=1)


def _default_cache(config: ClientConfig) -> tuple[TokenCache, bool]:
    if config.redis_url:
        from ._redis_cache import RedisTokenCache

        return RedisTokenCache.from_url(config.redis_url), True
    return MemoryTokenCache(), True


class WeChatClient:
    """Talks to WeChat for one account (appid).

    Inject ``http`` (an ``httpx.AsyncClient`` you own and close) or ``transport`` (the
    client builds its own AsyncClient on it); with neither, it uses a default AsyncClient.
    ``cache`` defaults to Redis when ``config.redis_url`` is set, else process memory.
    Use it as ``async with WeChatClient(config) as client: ...`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        cache: TokenCache | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if http is not None and transport is not None:
            raise ValueError("pass either http or transport, not both")
        self.config = config
        self._owns_http = http is None
        self._http_client = http or httpx.AsyncClient(transport=transport)
        if cache is None:
            cache, self._owns_cache = _default_cache(config)
        else:
            self._owns_cache = False
        self._clock = clock
        self._http = WeChatHTTP(self._http_client, config, sleep=sleep)
        self.tokens = TokenManager(config, cache, self._fetch_token, clock=clock, sleep=sleep)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> WeChatClient:
        """A client configured by :meth:`ClientConfig.from_env`."""
        return cls(ClientConfig.from_env(environ), **kwargs)

    def __repr__(self) -> str:
        return f"WeChatClient(appid={self.config.appid!r}, api_base={self.config.api_base!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close what the client created itself (its AsyncClient and default cache)."""
        if self._owns_cache:
            await self.tokens.cache.aclose()
        if self._owns_http:
            await self._http_client.aclose()

    async def _fetch_token(self, force_refresh: bool) -> CachedToken:
        return await fetch_token(self._http, self.config, force_refresh, self._clock())

    async def _api(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call an API that needs the access token; on a token errcode, compare-and-expire
        the token that failed, get a valid one and retry exactly once."""
        token = await self.tokens.get()
        try:
            return await self._call_with(token, method, path, params, body)
        except InvalidToken:
            await self.tokens.invalidate(token)
        token = await self.tokens.get()
        return await self._call_with(token, method, path, params, body)

    async def _call_with(
        self,
        token: str,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        query = {**(params or {}), "access_token": token}
        return await self._http.call(
            method, self.config.api_base, path, params=query, body=body, secrets=(token,)
        )

    # QR codes -------------------------------------------------------------------------

    async def create_qrcode(self, request: QRRequest) -> QRTicket:
        """Create a ticket for a validated request; ``expires_at`` counts from the call."""
        issued_at = self._clock()
        body = await self._api("POST", "/cgi-bin/qrcode/create", body=request.payload())
        ticket = QRTicket.from_response(body, issued_at)
        if request.is_permanent:
            return QRTicket(ticket.ticket, ticket.url, None, None)
        return ticket

    async def api_quota(self, cgi_path: str) -> ApiQuota:
        """Today's quota of an API (e.g. ``/cgi-bin/qrcode/create``): limit, used, remain."""
        body = await self._api("POST", "/cgi-bin/openapi/quota/get", body={"cgi_path": cgi_path})
        return ApiQuota.from_response(body)

    def show_url(self, ticket: str) -> str:
        """The ``showqrcode`` URL of ``ticket`` on the configured mp base."""
        return _show_url(ticket, self.config.mp_base)

    async def fetch_qrcode_image(self, ticket: str) -> bytes:
        """The image WeChat serves for ``ticket`` (JPEG), checked for status and type."""
        image = await self._http.image(self.show_url(ticket), "/cgi-bin/showqrcode")
        return image.content

    # Users and tags -------------------------------------------------------------------

    async def user_info(self, openid: str, *, lang: str = "zh_CN") -> UserInfo:
        """Whether ``openid`` follows and how it came (``subscribe_scene``, ``qr_scene*``)."""
        if not openid:
            raise ValueError("openid must not be empty")
        params = {"openid": openid, "lang": lang}
        return UserInfo.from_response(await self._api("GET", "/cgi-bin/user/info", params=params))

    async def create_tag(self, name: str) -> Tag:
        if not 1 <= len(name) <= MAX_TAG_NAME_LENGTH:
            raise ValueError(f"tag name must be 1..{MAX_TAG_NAME_LENGTH} characters")
        body = await self._api("POST", "/cgi-bin/tags/create", body={"tag": {"name": name}})
        tag = body.get("tag")
        if not isinstance(tag, dict):
            raise UnexpectedResponse("tags/create response lacks 'tag'")
        return Tag.from_response(tag)

    async def list_tags(self) -> list[Tag]:
        body = await self._api("GET", "/cgi-bin/tags/get")
        tags = body.get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
            raise UnexpectedResponse("tags/get response lacks a 'tags' list")
        return [Tag.from_response(t) for t in tags]

    async def batch_tag(self, openids: Sequence[str], tag_id: int) -> None:
        """Tag followers, in calls of at most 50 openids (WeChat's limit)."""
        ids = list(openids)
        for start in range(0, len(ids), BATCH_TAG_LIMIT):
            chunk = ids[start : start + BATCH_TAG_LIMIT]
            await self._api(
                "POST",
                "/cgi-bin/tags/members/batchtagging",
                body={"openid_list": chunk, "tagid": tag_id},
            )

    # Datacube -------------------------------------------------------------------------

    async def user_summary(self, begin: date, end: date) -> list[UserSummaryRow]:
        """WeChat's daily new/cancelled users per source for ``begin..end`` (inclusive);
        ranges over 7 days are fetched in several calls. Sorted by date, then source."""
        rows: list[UserSummaryRow] = []
        for start, stop in date_chunks(begin, end):
            body = await self._api(
                "POST",
                "/datacube/getusersummary",
                body={"begin_date": start.isoformat(), "end_date": stop.isoformat()},
            )
            items = body.get("list")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise UnexpectedResponse("getusersummary response lacks a 'list'")
            rows.extend(UserSummaryRow.from_response(i) for i in items)
        rows.sort(key=lambda r: (r.ref_date, r.user_source))
        return rows

    async def user_cumulate(self, begin: date, end: date) -> list[UserCumulateRow]:
        """WeChat's total followers at the end of each day of ``begin..end`` (inclusive),
        fetched in calls of at most 7 days; sorted by date."""
        rows: list[UserCumulateRow] = []
        for start, stop in date_chunks(begin, end):
            body = await self._api(
                "POST",
                "/datacube/getusercumulate",
                body={"begin_date": start.isoformat(), "end_date": stop.isoformat()},
            )
            items = body.get("list")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise UnexpectedResponse("getusercumulate response lacks a 'list'")
            rows.extend(UserCumulateRow.from_response(i) for i in items)
        rows.sort(key=lambda r: r.ref_date)
        return rows
