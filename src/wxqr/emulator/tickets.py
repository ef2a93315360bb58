"""Tickets and code URLs in the shape WeChat issues them.

A WeChat ticket is base64 of a small binary record (observed from public samples)::

    81 01 XX XX  LEN  00*7  01 ULEN <url> 00  02 04 <created, u32 LE>  03 04 <expiry, u32 LE>

``LEN`` counts the bytes from the ``01`` after the zeros to the end, ``ULEN`` the url plus
its NUL, ``XX XX`` vary. The url is ``http://weixin.qq.com/q/<22 characters>``. Nothing in
a ticket is secret; a new ticket is minted on every creation, while the url names the code.
"""

from __future__ import annotations

import base64
import secrets
import string
import struct
from dataclasses import dataclass

__all__ = ["CODE_URL_PREFIX", "TicketInfo", "decode_ticket", "mint_ticket", "new_code_url"]

CODE_URL_PREFIX = "http://weixin.qq.com/q/"
_CODE_ALPHABET = string.ascii_letters + string.digits + "-_"
_CODE_LENGTH = 22


def new_code_url() -> str:
    """A fresh ``http://weixin.qq.com/q/<code>`` url (22 characters, starting ``02``)."""
    tail = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH - 2))
    return CODE_URL_PREFIX + "02" + tail


def mint_ticket(url: str, created_at: int, expire_seconds: int) -> str:
    """A base64 ticket holding ``url``, the creation time and the expiry (0: permanent)."""
    raw_url = url.encode("ascii") + b"\x00"
    if len(raw_url) > 0xFF:
        raise ValueError("code url too long for a ticket")
    tail = (
        b"\x01"
        + bytes([len(raw_url)])
        + raw_url
        + b"\x02\x04"
        + struct.pack("<I", created_at & 0xFFFFFFFF)
        + b"\x03\x04"
        + struct.pack("<I", expire_seconds & 0xFFFFFFFF)
    )
    head = b"\x81\x01" + secrets.token_bytes(2) + bytes([len(tail)]) + b"\x00" * 7
    return base64.b64encode(head + tail).decode("ascii")


@dataclass(frozen=True, slots=True)
class TicketInfo:
    url: str
    created_at: int
    expire_seconds: int


def decode_ticket(ticket: str) -> TicketInfo | None:
    """Read a ticket of WeChat's shape back; ``None`` when it is not one."""
    try:
        raw = base64.b64decode(ticket, validate=True)
    except ValueError:
        return None
    if len(raw) < 14 or raw[:2] != b"\x81\x01" or raw[12] != 1:
        return None
    url_len = raw[13]
    start = 14
    end = start + url_len
    rest = raw[end:]
    if len(rest) != 12 or rest[:2] != b"\x02\x04" or rest[6:8] != b"\x03\x04":
        return None
    url = raw[start : end - 1].decode("ascii", "replace")
    (created,) = struct.unpack("<I", rest[2:6])
    (expire,) = struct.unpack("<I", rest[8:12])
    return TicketInfo(url, created, expire)
