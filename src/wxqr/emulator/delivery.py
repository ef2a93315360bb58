"""Delivering one push to the account's server the way WeChat does.

The push is sealed once (plain, compatible or safe) and the very same request is sent up
to ``tries`` times: a try fails on a timeout (``wait`` seconds for the whole answer), a
connection error or an HTTP status other than 200. ``success`` or an empty body ends it
with nothing shown to the user; any other body must be a passive reply — in safe mode an
encrypted envelope, in compatible mode either — whose To/From match the push, else the
user sees "该公众号暂时无法提供服务", as after three failed tries.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from wxqr.protocol import (
    SUCCESS,
    EncryptMode,
    ProtocolError,
    PushQuery,
    Reply,
    open_reply,
    parse_fields,
    parse_reply,
    seal_push,
)

from .config import AccountConfig
from .results import SERVICE_UNAVAILABLE, Attempt

__all__ = ["Delivery", "deliver", "read_reply"]

_BODY_KEPT = 2000


@dataclass(frozen=True, slots=True)
class Delivery:
    query: PushQuery
    body: str
    attempts: tuple[Attempt, ...]
    delivered: bool
    reply: Reply | None
    error: str | None


def read_reply(body: bytes, account: AccountConfig, openid: str) -> Reply:
    """The passive reply in ``body`` as the user sees it; raise ProtocolError if none."""
    fields = parse_fields(body)
    if "Encrypt" in fields:
        if account.mode is EncryptMode.PLAIN:
            raise ProtocolError("encrypted reply from a plain-mode account")
        xml = open_reply(body, account.keys)
    elif account.mode is EncryptMode.SAFE:
        raise ProtocolError("plaintext reply from a safe-mode account")
    else:
        xml = body
    parsed = parse_reply(xml)
    if parsed.to_user != openid or parsed.from_user != account.original_id:
        raise ProtocolError("reply To/From do not match the push")
    return parsed.reply


async def _attempt(
    client: httpx.AsyncClient,
    url: str,
    query: PushQuery,
    body: bytes,
    wait: float,
) -> tuple[int | None, bytes, str | None]:
    try:
        async with asyncio.timeout(wait):
            response = await client.post(
                url,
                params=query.to_params(),
                content=body,
                headers={"Content-Type": "text/xml; charset=utf-8", "User-Agent": "Mozilla/4.0"},
                timeout=wait,
            )
    except (TimeoutError, httpx.TimeoutException):
        return None, b"", "timeout"
    except httpx.HTTPError as exc:
        return None, b"", f"connection failed: {type(exc).__name__}"
    if response.status_code != 200:
        return response.status_code, response.content, f"HTTP {response.status_code}"
    return 200, response.content, None


async def deliver(
    client: httpx.AsyncClient,
    account: AccountConfig,
    url: str,
    xml: str,
    *,
    openid: str,
    timestamp: int,
    wait: float,
    tries: int,
) -> Delivery:
    sealed = seal_push(xml, account.keys, timestamp=timestamp, openid=openid)
    body_text = sealed.body.decode("utf-8")
    attempts: list[Attempt] = []
    for number in range(1, tries + 1):
        started = time.perf_counter()
        status, answer, problem = await _attempt(client, url, sealed.query, sealed.body, wait)
        latency = (time.perf_counter() - started) * 1000
        text = answer[:_BODY_KEPT].decode("utf-8", "replace")
        attempts.append(Attempt(number, status, latency, problem, text))
        if problem is not None:
            continue
        stripped = answer.strip()
        if not stripped or stripped == SUCCESS.encode():
            return Delivery(sealed.query, body_text, tuple(attempts), True, None, None)
        try:
            reply = read_reply(answer, account, openid)
        except (ProtocolError, ValueError) as exc:
            attempts[-1] = Attempt(number, status, latency, f"bad reply: {exc}", text)
            return Delivery(
                sealed.query, body_text, tuple(attempts), True, None, SERVICE_UNAVAILABLE
            )
        return Delivery(sealed.query, body_text, tuple(attempts), True, reply, None)
    return Delivery(sealed.query, body_text, tuple(attempts), False, None, SERVICE_UNAVAILABLE)
