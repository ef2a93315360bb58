"""Where a webhook may be sent: https only, and never into private networks.

An endpoint's URL is checked when it is registered *and* before every delivery (its name
is resolved again and the request goes to the address that was checked, so a DNS answer
that changes after registration — DNS rebinding — cannot point wxqr at an internal
service). ``WXQR_WEBHOOK_ALLOW_HTTP`` and ``WXQR_WEBHOOK_ALLOW_PRIVATE`` lift the two
rules for local development.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from wxqr.service.errors import InvalidInputError

__all__ = [
    "MAX_URL_LENGTH",
    "AddressPolicy",
    "BlockedAddress",
    "Resolver",
    "blocked_reason",
    "check_url",
    "system_resolver",
]

MAX_URL_LENGTH = 2048

#: host, port -> the IP addresses the name resolves to.
Resolver = Callable[[str, int], Sequence[str]]


class BlockedAddress(InvalidInputError):
    """The URL's host is (or resolves to) an address wxqr must not send to."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system's resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def blocked_reason(address: str) -> str | None:
    """Why ``address`` is refused (private, loopback, link-local …), or None if public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for flag, name in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_reserved, "reserved"),
    ):
        if flag:
            return name
    if not ip.is_global:
        return "not public"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """The two rules and how names are resolved (tests give a resolver of their own)."""

    allow_http: bool = False
    allow_private: bool = False
    resolver: Resolver = system_resolver

    def addresses(self, url: httpx.URL) -> list[str]:
        """The addresses to send to, all checked; raises :class:`BlockedAddress`."""
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                found = list(self.resolver(host, port))
            except (OSError, UnicodeError) as exc:
                raise BlockedAddress(
                    f"the webhook host {host!r} cannot be resolved ({type(exc).__name__})",
                    field="url",
                ) from None
        if not found:
            raise BlockedAddress(f"the webhook host {host!r} has no address", field="url")
        if not self.allow_private:
            for address in found:
                reason = blocked_reason(address)
                if reason is not None:
                    raise BlockedAddress(
                        f"the webhook host {host!r} is a {reason} address ({address}); "
                        "set WXQR_WEBHOOK_ALLOW_PRIVATE=1 to allow it (development only)",
                        field="url",
                    )
        return found


def check_url(raw: str, policy: AddressPolicy) -> str:
    """The URL to store, after every registration check; raises InvalidInputError."""
    text = raw.strip()
    if not text or len(text) > MAX_URL_LENGTH:
        raise InvalidInputError(f"url must be 1..{MAX_URL_LENGTH} characters", field="url")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise InvalidInputError("url is not a valid URL", field="url") from None
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if url.scheme not in allowed:
        hint = (
            "" if policy.allow_http else " (WXQR_WEBHOOK_ALLOW_HTTP=1 allows http in development)"
        )
        raise InvalidInputError(f"url must be an https URL{hint}", field="url")
    if not url.host:
        raise InvalidInputError("url has no host", field="url")
    if url.userinfo:
        raise InvalidInputError("url must not carry a user name or password", field="url")
    if url.fragment:
        raise InvalidInputError("url must not have a #fragment", field="url")
    policy.addresses(url)
    return str(url)
