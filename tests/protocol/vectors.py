"""Official WeChat sample parameters and vectors (copied into the project on purpose)."""

from __future__ import annotations

PLAIN_TOKEN = "test"
PLAIN_TIMESTAMP = "1410685589"
PLAIN_NONCE = "test"
PLAIN_SIGNATURE = "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
PLAIN_SIGNATURE_MUST_FAIL = "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe"

AES_TOKEN = "pamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
AES_APPID = "wxb11529c136998cb6"
AES_RANDOM16 = b"aaaabbbbccccdddd"
AES_TIMESTAMP = "1409304348"
AES_NONCE = "xxxxxx"
AES_PLAINTEXT = "我是中文abcd123"
AES_ENCRYPT = (
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
)
AES_MSG_SIGNATURE = "82c962d39941aa48552f90ef55aa323dc620cc10"

SUBSCRIBE_SCAN_XML = (
    b"<xml><ToUserName><![CDATA[gh_45072270791c]]></ToUserName>\n"
    b"<FromUserName><![CDATA[o7Lp5t6n59DeX3U0C7Kric9qEx-Q]]></FromUserName>\n"
    b"<CreateTime>1389684286</CreateTime><MsgType><![CDATA[event]]></MsgType>\n"
    b"<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_1000]]></EventKey>\n"
    b"<Ticket><![CDATA[gQHi8DoAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL0UweTNxNi1sdlA3RklyRnNK"
    b"bUFvAAIELdnUUgMEAAAAAA==]]></Ticket></xml>"
)


def event_xml(
    event: str,
    event_key: str | None = None,
    *,
    ticket: str | None = None,
    openid: str = "o7Lp5t6n59DeX3U0C7Kric9qEx-Q",
    create_time: str = "1389684286",
    to_user: str = "gh_45072270791c",
) -> bytes:
    """A push document of the given event, in WeChat's layout."""
    parts = [
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{create_time}</CreateTime>",
        "<MsgType><![CDATA[event]]></MsgType>",
        f"<Event><![CDATA[{event}]]></Event>",
    ]
    if event_key is not None:
        parts.append(f"<EventKey><![CDATA[{event_key}]]></EventKey>")
    if ticket is not None:
        parts.append(f"<Ticket><![CDATA[{ticket}]]></Ticket>")
    parts.append("</xml>")
    return "".join(parts).encode("utf-8")
