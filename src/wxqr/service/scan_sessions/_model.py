"""What a scan session is, as the service hands it out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "FINAL_STATUSES",
    "MAX_PAYLOAD_BYTES",
    "MAX_TTL_SECONDS",
    "MIN_TTL_SECONDS",
    "PURPOSE_PATTERN",
    "Binding",
    "CreatedSession",
    "NewScanSession",
    "ScanSession",
    "SessionStatus",
]

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 2_592_000  # WeChat's longest temporary code: 30 days
DEFAULT_TTL_SECONDS = 300
MAX_PAYLOAD_BYTES = 4096
MAX_REF_LENGTH = 128
# "login", "bind" or a word of the caller's: 1–32 letters, digits, "-", "_", ".".
PURPOSE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")


class SessionStatus(StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: A waiter stops at these (a ``once=false`` session is scanned but still reports scans).
FINAL_STATUSES = frozenset({SessionStatus.SCANNED, SessionStatus.EXPIRED, SessionStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class NewScanSession:
    """What the caller asks for (checked by :meth:`ScanSessionService.create`)."""

    purpose: str
    ref: str | None = None
    payload: dict[str, Any] | None = None
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    once: bool = True
    reply: object = None  # raw reply input (wxqr.service.replies.reply_from_input)


@dataclass(frozen=True, slots=True)
class ScanSession:
    id: int
    account_id: int
    appid: str
    status: SessionStatus
    purpose: str
    ref: str | None
    payload: dict[str, Any] | None
    once: bool
    scene: str
    ticket: str | None
    url: str | None
    image_url: str | None
    openid: str | None
    unionid: str | None
    followed_now: bool | None
    scanned_at: int | None
    scans: int
    expires_at: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class CreatedSession:
    """A session just made, with the browser's poll token (shown only this once)."""

    session: ScanSession
    poll_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Binding:
    id: int
    account_id: int
    ref: str
    openid: str
    session_id: int | None
    created_at: int
