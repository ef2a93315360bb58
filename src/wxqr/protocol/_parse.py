"""From a push's XML to a typed :class:`Push`."""

from __future__ import annotations

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

__all__ = ["parse_push", "push_from_fields"]

_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


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


def push_from_fields(fields: Mapping[str, str]) -> Push:
    """Build the typed push from already-parsed fields."""
    for name in _REQUIRED:
        _require(fields, name)
    raw_time = fields["CreateTime"]
    if not (raw_time.isascii() and raw_time.isdigit()):
        raise MalformedPush(f"CreateTime must be an integer, got {raw_time[:32]!r}")
    common: _Common = {
        "to_user": fields["ToUserName"],
        "from_user": fields["FromUserName"],
        "create_time": int(raw_time),
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
        if not key:
            raise MalformedPush("SCAN event without EventKey")
        return ScanEvent(**common, event=event, scene=key, ticket=ticket, event_key=key)
    if kind == "unsubscribe":
        return UnsubscribeEvent(**common, event=event)
    return OtherEvent(**common, event=event, event_key=key)


def parse_push(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Push:
    """Parse a plaintext push document into a typed :class:`Push`.

    Raises :class:`MalformedPush` for anything that is not a WeChat push.
    """
    return push_from_fields(parse_fields(body, max_bytes=max_bytes))
