"""A thin synchronous facade over :class:`WeChatClient` for scripts and the CLI.

It runs the async client on a private event loop (``asyncio.Runner``), so it must not be
called from inside a running event loop: async code uses :class:`WeChatClient` directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from wxqr.protocol import QRRequest

from ._cache import TokenCache
from ._client import WeChatClient
from ._config import ClientConfig
from ._models import ApiQuota, QRTicket, Tag, UserCumulateRow, UserInfo, UserSummaryRow

__all__ = ["SyncWeChatClient"]

T = TypeVar("T")


class SyncWeChatClient:
    """The blocking twin of :class:`WeChatClient` (same methods, same errors)."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        cache: TokenCache | None = None,
    ) -> None:
        self._runner = asyncio.Runner()
        self._client = WeChatClient(config, transport=transport, cache=cache)
        self._closed = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> SyncWeChatClient:
        return cls(ClientConfig.from_env(environ), **kwargs)

    def __repr__(self) -> str:
        return f"Sync{self._client!r}"

    @property
    def config(self) -> ClientConfig:
        return self._client.config

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("the client is closed")
        return self._runner.run(coro)

    def close(self) -> None:
        if not self._closed:
            try:
                self._runner.run(self._client.aclose())
            finally:
                self._closed = True
                self._runner.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def access_token(self) -> str:
        return self._run(self._client.tokens.get())

    def refresh_token(self, *, force_refresh: bool = False) -> str:
        return self._run(self._client.tokens.refresh(force_refresh=force_refresh))

    def create_qrcode(self, request: QRRequest) -> QRTicket:
        return self._run(self._client.create_qrcode(request))

    def api_quota(self, cgi_path: str) -> ApiQuota:
        return self._run(self._client.api_quota(cgi_path))

    def fetch_qrcode_image(self, ticket: str) -> bytes:
        return self._run(self._client.fetch_qrcode_image(ticket))

    def show_url(self, ticket: str) -> str:
        return self._client.show_url(ticket)

    def user_info(self, openid: str, *, lang: str = "zh_CN") -> UserInfo:
        return self._run(self._client.user_info(openid, lang=lang))

    def create_tag(self, name: str) -> Tag:
        return self._run(self._client.create_tag(name))

    def list_tags(self) -> list[Tag]:
        return self._run(self._client.list_tags())

    def batch_tag(self, openids: Sequence[str], tag_id: int) -> None:
        self._run(self._client.batch_tag(openids, tag_id))

    def user_summary(self, begin: date, end: date) -> list[UserSummaryRow]:
        return self._run(self._client.user_summary(begin, end))

    def user_cumulate(self, begin: date, end: date) -> list[UserCumulateRow]:
        return self._run(self._client.user_cumulate(begin, end))
