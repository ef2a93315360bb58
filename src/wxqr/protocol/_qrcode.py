"""QR code requests for ``cgi-bin/qrcode/create`` and the ``showqrcode`` URL.

Every limit WeChat documents is checked here, before any call:

* temporary ``scene_id``: 1..4294967295 (a non-zero 32-bit unsigned integer)
* permanent ``scene_id``: 1..100000
* ``scene_str``: 1..64 characters
* temporary ``expire_seconds``: 1..2592000 (30 days), always sent
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from ._errors import InvalidQRRequest

__all__ = [
    "DEFAULT_MP_BASE",
    "MAX_EXPIRE_SECONDS",
    "MAX_PERMANENT_SCENE_ID",
    "MAX_SCENE_STR_LENGTH",
    "MAX_TEMPORARY_SCENE_ID",
    "PERMANENT_CODE_LIMIT",
    "QRKind",
    "QRRequest",
    "show_url",
]

MAX_TEMPORARY_SCENE_ID = 4_294_967_295
MAX_PERMANENT_SCENE_ID = 100_000
MAX_SCENE_STR_LENGTH = 64
MAX_EXPIRE_SECONDS = 2_592_000
PERMANENT_CODE_LIMIT = 100_000
DEFAULT_MP_BASE = "https://mp.weixin.qq.com"


class QRKind(StrEnum):
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class QRRequest:
    """A validated request for one QR ticket. Build it with :meth:`temporary` or
    :meth:`permanent`; the constructor validates too."""

    kind: QRKind
    scene: int | str
    expire_seconds: int | None = None

    def __post_init__(self) -> None:
        scene = self.scene
        if isinstance(scene, bool) or not isinstance(scene, int | str):
            raise InvalidQRRequest("scene", "an int (scene_id) or a str (scene_str)", scene)
        if isinstance(scene, str):
            if not 1 <= len(scene) <= MAX_SCENE_STR_LENGTH:
                raise InvalidQRRequest("scene_str", f"1..{MAX_SCENE_STR_LENGTH} characters", scene)
        elif self.kind is QRKind.PERMANENT:
            if not 1 <= scene <= MAX_PERMANENT_SCENE_ID:
                raise InvalidQRRequest(
                    "scene_id", f"1..{MAX_PERMANENT_SCENE_ID} for a permanent code", scene
                )
        elif not 1 <= scene <= MAX_TEMPORARY_SCENE_ID:
            raise InvalidQRRequest(
                "scene_id", f"1..{MAX_TEMPORARY_SCENE_ID} for a temporary code", scene
            )
        if self.kind is QRKind.PERMANENT:
            if self.expire_seconds is not None:
                raise InvalidQRRequest(
                    "expire_seconds", "absent for a permanent code", self.expire_seconds
                )
        else:
            expire = self.expire_seconds
            if (
                isinstance(expire, bool)
                or not isinstance(expire, int)
                or not 1 <= expire <= MAX_EXPIRE_SECONDS
            ):
                raise InvalidQRRequest(
                    "expire_seconds", f"1..{MAX_EXPIRE_SECONDS} seconds (30 days)", expire
                )

    @classmethod
    def temporary(cls, scene: int | str, expire_seconds: int = MAX_EXPIRE_SECONDS) -> QRRequest:
        return cls(QRKind.TEMPORARY, scene, expire_seconds)

    @classmethod
    def permanent(cls, scene: int | str) -> QRRequest:
        return cls(QRKind.PERMANENT, scene)

    @property
    def is_permanent(self) -> bool:
        return self.kind is QRKind.PERMANENT

    @property
    def action_name(self) -> str:
        prefix = "QR_LIMIT_" if self.is_permanent else "QR_"
        return prefix + ("STR_SCENE" if isinstance(self.scene, str) else "SCENE")

    def payload(self) -> dict[str, Any]:
        """The JSON body, with the ``action_info.scene`` wrapper WeChat needs."""
        scene_key = "scene_str" if isinstance(self.scene, str) else "scene_id"
        body: dict[str, Any] = {}
        if self.expire_seconds is not None:
            body["expire_seconds"] = self.expire_seconds
        body["action_name"] = self.action_name
        body["action_info"] = {"scene": {scene_key: self.scene}}
        return body

    def to_json(self) -> bytes:
        """The request body as UTF-8 JSON bytes (non-ASCII scene strings kept as is)."""
        return json.dumps(self.payload(), ensure_ascii=False, separators=(",", ":")).encode()


def show_url(ticket: str, base: str = DEFAULT_MP_BASE) -> str:
    """The ``showqrcode`` URL of ``ticket``, encoded exactly once."""
    if not ticket:
        raise InvalidQRRequest("ticket", "a non-empty string", ticket)
    return f"{base.rstrip('/')}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"
