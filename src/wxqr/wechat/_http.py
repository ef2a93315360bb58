"""The one HTTP seam of the client: every request to WeChat goes through :class:`WeChatHTTP`.

It owns the timeouts, the JSON decoding, the errcode-to-exception mapping, the bounded
exponential backoff with full jitter on errcode -1, and the redaction of secrets (the
request URL carries ``access_token`` or ``secret``, so it never reaches a message).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._config import ClientConfig
from ._errors import BUSY_ERRCODE, TransportError, UnexpectedResponse, api_error, redact
from ._observe import notify_call

__all__ = ["Image", "WeChatHTTP", "install_log_redaction"]

logger = logging.getLogger("wxqr.wechat")

Sleep = Callable[[float], Awaitable[None]]


class _RedactQuery(logging.Filter):
    """Hides ``access_token=`` and ``secret=`` values in httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                redact(str(a)) if isinstance(a, httpx.URL | str) else a for a in args
            )
        record.msg = redact(str(record.msg))
        return True


_FILTER = _RedactQuery()


def install_log_redaction() -> None:
    """Attach the redacting filter to the ``httpx`` logger (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if _FILTER not in httpx_logger.filters:
        httpx_logger.addFilter(_FILTER)


@dataclass(frozen=True, slots=True)
class Image:
    content: bytes
    content_type: str


def _object(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        raise UnexpectedResponse(f"{path}: response is not JSON") from None
    if not isinstance(body, dict):
        raise UnexpectedResponse(f"{path}: response is not a JSON object")
    return body


class WeChatHTTP:
    """Sends requests through an injected ``httpx.AsyncClient``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: ClientConfig,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._config = config
        self._sleep = sleep
        self._rng = rng
        self._timeout = httpx.Timeout(config.timeout)
        install_log_redaction()

    async def _send(
        self,
        method: str,
        url: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        secrets: tuple[str, ...],
    ) -> httpx.Response:
        content = None
        headers = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json; charset=utf-8"}
        try:
            response = await self._client.request(
                method, url, params=params, content=content, headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException:
            raise TransportError(f"{path}: timed out after {self._config.timeout:g} s") from None
        except httpx.HTTPError as exc:
            detail = redact(str(exc), (self._config.secret, *secrets))
            raise TransportError(f"{path}: {type(exc).__name__}: {detail}") from None
        if response.status_code != httpx.codes.OK:
            raise TransportError(f"{path}: HTTP {response.status_code}")
        return response

    def _check(self, body: Mapping[str, Any], secrets: tuple[str, ...]) -> None:
        errcode = body.get("errcode", 0)
        if isinstance(errcode, bool) or not isinstance(errcode, int):
            raise UnexpectedResponse("errcode is not an integer")
        if errcode != 0:
            errmsg = body.get("errmsg")
            raise api_error(
                errcode, errmsg if isinstance(errmsg, str) else "", (self._config.secret, *secrets)
            )

    async def call(
        self,
        method: str,
        base: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """One API call: the decoded JSON object, or the typed error for its errcode.
        Errcode -1 is retried ``busy_retries`` times with exponential backoff and jitter."""
        url = base + path
        attempt = 0
        while True:
            try:
                response = await self._send(method, url, path, params, body, secrets)
                decoded = _object(response, path)
            except TransportError:
                notify_call(path, "transport")
                raise
            except UnexpectedResponse:
                notify_call(path, "unexpected")
                raise
            errcode = decoded.get("errcode", 0)
            notify_call(path, str(errcode) if isinstance(errcode, int) else "unexpected")
            if errcode != BUSY_ERRCODE or attempt >= self._config.busy_retries:
                self._check(decoded, secrets)
                return decoded
            cap = min(self._config.backoff_max, self._config.backoff_base * 2**attempt)
            delay = cap * self._rng()
            attempt += 1
            logger.warning("%s: system busy (-1), retry %d in %.2f s", path, attempt, delay)
            await self._sleep(delay)

    async def image(self, url: str, path: str) -> Image:
        """GET an image: a 200 with an ``image/*`` content type, else the API error a
        ``text/plain`` (or JSON) body carries, else :class:`UnexpectedResponse`."""
        response = await self._send("GET", url, path, None, None, ())
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type.startswith("image/"):
            if not response.content:
                raise UnexpectedResponse(f"{path}: empty image")
            return Image(response.content, content_type)
        if content_type in ("text/plain", "application/json", "text/json", ""):
            self._check(_object(response, path), ())
        raise UnexpectedResponse(f"{path}: unexpected content type {content_type or 'none'!r}")
