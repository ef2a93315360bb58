"""Reading a ``cgi-bin/qrcode/create`` body the way WeChat does.

* empty body: 44002; not a JSON object: 47001; unknown ``action_name`` or a missing or
  malformed ``action_info``: 40053.
* ``scene_id``: a temporary one must be a positive integer (values above 4294967295 come
  back as scene 0, as WeChat does); a permanent one 1..100000.
* ``scene_str``: 1..64 characters.
* ``expire_seconds`` (temporary only; ignored for permanent codes): 1..2592000, 60 when
  left out.
* an ``action_info`` without the ``scene`` wrapper (or a wrapper without the scene
  field) still succeeds, but the code's scene is 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from wxqr.protocol import (
    MAX_EXPIRE_SECONDS,
    MAX_PERMANENT_SCENE_ID,
    MAX_SCENE_STR_LENGTH,
    MAX_TEMPORARY_SCENE_ID,
)

from .errors import WeChatError

__all__ = ["ACTION_NAMES", "DEFAULT_EXPIRE_SECONDS", "CreateRequest", "parse_create"]

DEFAULT_EXPIRE_SECONDS = 60
ACTION_NAMES = ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A valid create request: ``scene`` is what pushes will carry ("0" without wrapper)."""

    action_name: str
    scene: str
    scene_id: int
    scene_str: str
    expire_seconds: int | None

    @property
    def permanent(self) -> bool:
        return self.action_name.startswith("QR_LIMIT_")

    @property
    def is_str(self) -> bool:
        return self.action_name.endswith("STR_SCENE")

    @property
    def scene_key(self) -> str:
        """Identity of a permanent code within its account."""
        return f"str:{self.scene_str}" if self.is_str and self.scene_str else f"id:{self.scene_id}"


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _scene_id(raw: object, permanent: bool) -> int:
    value = _as_int(raw)
    if value is None or value < 1:
        raise WeChatError(40053, "scene_id must be a positive integer")
    if permanent and value > MAX_PERMANENT_SCENE_ID:
        raise WeChatError(40053, f"scene_id must be 1..{MAX_PERMANENT_SCENE_ID}")
    if value > MAX_TEMPORARY_SCENE_ID:
        return 0
    return value


def _scene_str(raw: object) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw) <= MAX_SCENE_STR_LENGTH:
        raise WeChatError(40053, f"scene_str must be 1..{MAX_SCENE_STR_LENGTH} characters")
    return raw


def _expire(raw: object) -> int:
    if raw is None:
        return DEFAULT_EXPIRE_SECONDS
    value = _as_int(raw)
    if value is None or not 1 <= value <= MAX_EXPIRE_SECONDS:
        raise WeChatError(40053, f"expire_seconds must be 1..{MAX_EXPIRE_SECONDS}")
    return value


def parse_create(body: bytes) -> CreateRequest:
    """Validate a create body; raise :class:`WeChatError` with WeChat's errcode."""
    if not body.strip():
        raise WeChatError(44002)
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WeChatError(47001) from None
    if not isinstance(data, dict):
        raise WeChatError(47001)
    action = data.get("action_name")
    if action not in ACTION_NAMES:
        raise WeChatError(40053, "invalid action_name")
    info = data.get("action_info")
    if not isinstance(info, dict):
        raise WeChatError(40053, "action_info is missing")
    permanent = action.startswith("QR_LIMIT_")
    expire = None if permanent else _expire(data.get("expire_seconds"))
    scene = info.get("scene")
    if scene is not None and not isinstance(scene, dict):
        raise WeChatError(40053, "scene must be an object")
    is_str = action.endswith("STR_SCENE")
    field_name = "scene_str" if is_str else "scene_id"
    if scene is None or scene.get(field_name) is None:
        return CreateRequest(action, "0", 0, "", expire)
    if is_str:
        text = _scene_str(scene[field_name])
        return CreateRequest(action, text, 0, text, expire)
    number = _scene_id(scene[field_name], permanent)
    return CreateRequest(action, str(number), number, "", expire)
