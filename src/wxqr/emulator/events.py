"""The XML of what WeChat pushes when a user scans, follows, unfollows or writes."""

from __future__ import annotations

from wxqr.protocol import SCENE_PREFIX, cdata

__all__ = ["message_xml", "scan_xml", "subscribe_xml", "unsubscribe_xml"]


def _head(account: str, openid: str, create_time: int) -> str:
    return (
        f"<xml><ToUserName>{cdata(account)}</ToUserName>"
        f"<FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
    )


def subscribe_xml(
    account: str, openid: str, create_time: int, *, scene: str | None = None, ticket: str = ""
) -> str:
    """``subscribe``: with ``qrscene_<scene>`` and the Ticket when it came through a code."""
    xml = _head(account, openid, create_time) + "<MsgType><![CDATA[event]]></MsgType>"
    xml += "<Event><![CDATA[subscribe]]></Event>"
    if scene is None:
        return xml + "<EventKey><![CDATA[]]></EventKey></xml>"
    xml += f"<EventKey>{cdata(SCENE_PREFIX + scene)}</EventKey>"
    return xml + f"<Ticket>{cdata(ticket)}</Ticket></xml>"


def scan_xml(account: str, openid: str, create_time: int, *, scene: str, ticket: str) -> str:
    """``SCAN``: a follower scanned a code; EventKey is the bare scene."""
    return (
        _head(account, openid, create_time)
        + "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event>"
        + f"<EventKey>{cdata(scene)}</EventKey><Ticket>{cdata(ticket)}</Ticket></xml>"
    )


def unsubscribe_xml(account: str, openid: str, create_time: int) -> str:
    return (
        _head(account, openid, create_time)
        + "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event></xml>"
    )


def message_xml(account: str, openid: str, create_time: int, *, content: str, msg_id: int) -> str:
    return (
        _head(account, openid, create_time)
        + "<MsgType><![CDATA[text]]></MsgType>"
        + f"<Content>{cdata(content)}</Content><MsgId>{msg_id}</MsgId></xml>"
    )
