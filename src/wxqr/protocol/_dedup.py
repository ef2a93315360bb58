"""The key that makes WeChat's retries of one push no-ops."""

from __future__ import annotations

import hashlib

from ._events import OtherEvent, Push, ScanEvent, SubscribeEvent, SubscribeScanEvent

__all__ = ["dedup_key"]


def dedup_key(push: Push) -> str:
    """A 40-character key, equal for a push and its retries, different for other pushes.

    Events: account + FromUserName + CreateTime + Event + EventKey. Messages: account +
    MsgId (falling back to the event recipe when a message has no MsgId).
    """
    msg_id = push.fields.get("MsgId", "") if push.msg_type != "event" else ""
    if msg_id:
        material = f"m\x1f{push.to_user}\x1f{msg_id}"
    else:
        key = ""
        if isinstance(push, SubscribeScanEvent | ScanEvent | SubscribeEvent | OtherEvent):
            key = push.event_key
        material = "\x1f".join(
            (
                "e",
                push.to_user,
                push.from_user,
                str(push.create_time),
                push.msg_type,
                push.event,
                key,
            )
        )
    return hashlib.sha1(material.encode("utf-8")).hexdigest()  # noqa: S324
