"""Push documents as WeChat sends them, for the webhook tests."""

from __future__ import annotations

import itertools
import time

from wxqr.protocol import AccountKeys, EncryptMode, SealedPush, seal_push

APPID = "wx0123456789abcdef"
OTHER_APPID = "wxfedcba9876543210"
TOKEN = "hook-token-42"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ORIGINAL_ID = "gh_0123456789ab"
MODES = (EncryptMode.PLAIN, EncryptMode.COMPATIBLE, EncryptMode.SAFE)

_msg_ids = itertools.count(7_000_000_000)


def keys_for(mode: EncryptMode, appid: str = APPID) -> AccountKeys:
    aes = None if mode is EncryptMode.PLAIN else AES_KEY
    return AccountKeys(appid, TOKEN, aes, mode)


def _head(openid: str, create_time: int, msg_type: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>"
    )


def event_xml(
    event: str, openid: str, create_time: int, event_key: str | None = None, ticket: str = ""
) -> str:
    xml = _head(openid, create_time, "event") + f"<Event><![CDATA[{event}]]></Event>"
    if event_key is not None:
        xml += f"<EventKey><![CDATA[{event_key}]]></EventKey>"
    if ticket:
        xml += f"<Ticket><![CDATA[{ticket}]]></Ticket>"
    return xml + "</xml>"


def subscribe_scan(openid: str, scene: str, create_time: int) -> str:
    return event_xml("subscribe", openid, create_time, f"qrscene_{scene}", f"TICKET-{scene}")


def scan(openid: str, scene: str, create_time: int) -> str:
    return event_xml("SCAN", openid, create_time, scene, f"TICKET-{scene}")


def subscribe(openid: str, create_time: int) -> str:
    return event_xml("subscribe", openid, create_time, "")


def unsubscribe(openid: str, create_time: int) -> str:
    return event_xml("unsubscribe", openid, create_time)


def click(openid: str, create_time: int, key: str = "MENU_1") -> str:
    return event_xml("CLICK", openid, create_time, key)


def text_message(openid: str, create_time: int, content: str = "hello") -> str:
    return (
        _head(openid, create_time, "text")
        + f"<Content><![CDATA[{content}]]></Content><MsgId>{next(_msg_ids)}</MsgId></xml>"
    )


def seal(xml: str, keys: AccountKeys, *, timestamp: int | None = None) -> SealedPush:
    return seal_push(xml, keys, timestamp=timestamp or int(time.time()), openid="")
