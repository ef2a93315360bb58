"""From a push's XML to a typed :class:`Push`.

``CreateTime`` must be a time WeChat could have sent: from :data:`EARLIEST_CREATE_TIME`
(2012-01-01, before WeChat pushed events) to :data:`MAX_CREATE_TIME_AHEAD` seconds after
now. Anything else (a 4,400-digit number, 2**63 - 1, 10**30) is a :class:`MalformedPush`,
so it is answered 400 rather than stored and breaking every page that shows it, or
overflowing the database column and answered 503 (which WeChat retries in vain).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TypedDict

from ._errors import MalformedPush
from ._events import (
    SCENE_PREFIX,
    OtherEvent,
    OtherMessage,
    Push,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    TextMessage,
    UnsubscribeEvent,
)
from ._xml import DEFAULT_MAX_BYTES, parse_fields

__all__ = ["EARLIEST_CREATE_TIME", "MAX_CREATE_TIME_AHEAD", "parse_push", "push_from_fields"]

_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")

#: 2012-01-01T00:00:00Z: no WeChat push is older.
EARLIEST_CREATE_TIME = 1_325_376_000
#: Seconds a CreateTime may be ahead of the receiver's clock (clock skew, with room).
MAX_CREATE_TIME_AHEAD = 86_400
# Digits of any time in range; checked before int() (which refuses > 4,300 digits).
_MAX_TIME_DIGITS = 11


class _Common(TypedDict):
    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    fields: Mapping[str, str]


def _require(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise MalformedPush(f"missing field {name}")
    return value


def _create_time(raw: str, now: float | None) -> int:
    if not (raw.isascii() and raw.isdigit()):
        raise MalformedPush(f"CreateTime must be an integer, got {raw[:32]!r}")
    latest = int(time.time() if now is None else now) + MAX_CREATE_TIME_AHEAD
    value = int(raw) if len(raw) <= _MAX_TIME_DIGITS else latest + 1
    if not EARLIEST_CREATE_TIME <= value <= latest:
        raise MalformedPush(
            f"CreateTime must be a Unix time from 2012-01-01 to a day ahead, got {raw[:32]!r}"
        )
    return value


def push_from_fields(fields: Mapping[str, str], *, now: float | None = None) -> Push:
    """Build the typed push from already-parsed fields (``now`` bounds CreateTime; the
    clock when ``None``)."""
    for name in _REQUIRED:
        _require(fields, name)
    common: _Common = {
        "to_user": fields["ToUserName"],
        "from_user": fields["FromUserName"],
        "create_time": _create_time(fields["CreateTime"], now),
        "msg_type": fields["MsgType"],
        "fields": fields,
    }
    if fields["MsgType"] != "event":
        msg_id = fields.get("MsgId", "")
        if fields["MsgType"] == "text":
            return TextMessage(**common, msg_id=msg_id, content=fields.get("Content", ""))
        return OtherMessage(**common, msg_id=msg_id)

    event = _require(fields, "Event")
    key = fields.get("EventKey", "")
    ticket = fields.get("Ticket", "")
    kind = event.lower()
    if kind == "subscribe":
        if key.startswith(SCENE_PREFIX) and len(key) > len(SCENE_PREFIX):
            scene = key[len(SCENE_PREFIX) :]
            return SubscribeScanEvent(
                **common, event=event, scene=scene, ticket=ticket, event_key=key
            )
        return SubscribeEvent(**common, event=event, event_key=key)
    if kind == "scan":
        # An empty (or absent) EventKey is a scan of the empty scene: recorded as an
        # orphan scan and answered, not refused (WeChat would retry a 400 in vain).
        return ScanEvent(**common, event=event, scene=key, ticket=ticket, event_key=key)
    if kind == "unsubscribe":
        return UnsubscribeEvent(**common, event=event)
    return OtherEvent(**common, event=event, event_key=key)


def parse_push(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Push:
    """Parse a plaintext push document into a typed :class:`Push`.

    Raises :class:`MalformedPush` for anything that is not a WeChat push.
    """
    return push_from_fields(parse_fields(body, max_bytes=max_bytes))
