"""One HTTP delivery: checked address, no redirects, bounded time and response size.

The endpoint's host is resolved and checked at every delivery (:mod:`._addresses`) and the
request goes to the checked address itself, with the original ``Host`` header and TLS
server name, so the certificate is still verified for the endpoint's name.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from wxqr.service.errors import InvalidInputError

from ._addresses import AddressPolicy

__all__ = ["MAX_RESPONSE_BYTES", "TIMEOUT_SECONDS", "Attempt", "send"]

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
_USER_AGENT = "wxqr-webhooks/1"


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one delivery attempt went: ``ok`` for any 2xx."""

    ok: bool
    status_code: int | None
    error: str | None

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks never to be called again."""
        return self.status_code == 410


async def _targets(url: httpx.URL, policy: AddressPolicy) -> list[httpx.URL]:
    """The URLs to try, in order: one per checked address, put in place of the name."""
    addresses = await asyncio.to_thread(policy.addresses, url)
    return [url if address == url.host else url.copy_with(host=address) for address in addresses]


async def send(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    body: bytes,
    policy: AddressPolicy,
    *,
    seconds: float = TIMEOUT_SECONDS,
) -> Attempt:
    """POST ``body`` to ``url``; never raises for anything the network or receiver does."""
    target = httpx.URL(url)
    try:
        async with asyncio.timeout(seconds):
            try:
                candidates = await _targets(target, policy)
            except InvalidInputError as exc:
                return Attempt(False, None, exc.detail[:500])
            request_headers = {
                **headers,
                "content-type": "application/json",
                "user-agent": _USER_AGENT,
                "host": target.netloc.decode("ascii"),
            }
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            for index, candidate in enumerate(candidates):
                request = client.build_request(
                    "POST", candidate, headers=request_headers, content=body, extensions=extensions
                )
                try:
                    return await _post(client, request)
                except httpx.ConnectError:
                    if index == len(candidates) - 1:
                        raise
            raise httpx.ConnectError("no address to connect to")  # pragma: no cover
    except TimeoutError:
        return Attempt(False, None, f"no answer within {seconds:g} s")
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500])


async def _post(client: httpx.AsyncClient, request: httpx.Request) -> Attempt:
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= MAX_RESPONSE_BYTES:
                break  # the rest is not wanted
    finally:
        await response.aclose()
    status = response.status_code
    if 200 <= status < 300:
        return Attempt(True, status, None)
    if 300 <= status < 400:
        where = response.headers.get("location", "")[:200]
        return Attempt(False, status, f"HTTP {status} redirect to {where!r} (not followed)")
    return Attempt(False, status, f"HTTP {status}")
