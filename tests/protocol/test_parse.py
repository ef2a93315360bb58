from __future__ import annotations

import pytest

from wxqr.protocol import (
    DEFAULT_MAX_BYTES,
    MalformedPush,
    OtherEvent,
    OtherMessage,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    TextMessage,
    UnsubscribeEvent,
    parse_fields,
    parse_push,
)

from . import vectors as v

TICKET = (
    "gQHi8DoAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL0UweTNx"
    "Ni1sdlA3RklyRnNKbUFvAAIELdnUUgMEAAAAAA=="
)


def test_official_subscribe_scan_sample() -> None:
    push = parse_push(v.SUBSCRIBE_SCAN_XML)
    assert isinstance(push, SubscribeScanEvent)
    assert push.scene == "1000"
    assert push.scene_id == 1000
    assert push.ticket == TICKET
    assert push.event_key == "qrscene_1000"
    assert push.to_user == "gh_45072270791c"
    assert push.from_user == push.openid == "o7Lp5t6n59DeX3U0C7Kric9qEx-Q"
    assert push.create_time == 1389684286
    assert push.msg_type == "event"
    assert push.event == "subscribe"
    assert push.fields["Ticket"] == TICKET


def test_events_are_frozen() -> None:
    push = parse_push(v.SUBSCRIBE_SCAN_XML)
    with pytest.raises(AttributeError):
        push.scene = "other"  # type: ignore[misc]


@pytest.mark.parametrize("event", ["SCAN", "scan", "Scan"])
def test_scan_matched_case_insensitively(event: str) -> None:
    push = parse_push(v.event_xml(event, "1000", ticket=TICKET))
    assert isinstance(push, ScanEvent)
    assert push.scene == "1000"
    assert push.event == event  # the raw name is kept
    assert push.ticket == TICKET


def test_string_scene() -> None:
    push = parse_push(v.event_xml("SCAN", "poster-北京"))
    assert isinstance(push, ScanEvent)
    assert push.scene == "poster-北京"
    assert push.scene_id is None


def test_only_a_leading_qrscene_prefix_is_stripped() -> None:
    push = parse_push(v.event_xml("subscribe", "qrscene_qrscene_x", ticket=TICKET))
    assert isinstance(push, SubscribeScanEvent)
    assert push.scene == "qrscene_x"
    scan = parse_push(v.event_xml("SCAN", "a_qrscene_b"))
    assert isinstance(scan, ScanEvent)
    assert scan.scene == "a_qrscene_b"


@pytest.mark.parametrize("key", [None, "", "last_trade_no_4200000123", "qrscene_"])
def test_plain_subscribe_keeps_a_non_scene_key(key: str | None) -> None:
    push = parse_push(v.event_xml("subscribe", key))
    assert isinstance(push, SubscribeEvent)
    assert push.event_key == (key or "")


def test_unsubscribe() -> None:
    push = parse_push(v.event_xml("unsubscribe", ""))
    assert isinstance(push, UnsubscribeEvent)
    assert push.event == "unsubscribe"


def test_other_event_keeps_all_fields_including_nested() -> None:
    xml = (
        b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
        b"<CreateTime>1389684286</CreateTime><MsgType>event</MsgType><Event>scancode_push</Event>"
        b"<EventKey>k</EventKey><ScanCodeInfo><ScanType>qrcode</ScanType>"
        b"<ScanResult>1</ScanResult></ScanCodeInfo></xml>"
    )
    push = parse_push(xml)
    assert isinstance(push, OtherEvent)
    assert push.event_key == "k"
    assert push.fields["ScanCodeInfo.ScanType"] == "qrcode"
    assert push.fields["ScanCodeInfo.ScanResult"] == "1"


def test_repeated_elements_get_indexed_names() -> None:
    fields = parse_fields(b"<xml><a>1</a><a>2</a></xml>")
    assert dict(fields) == {"a": "1", "a[1]": "2"}


def test_repeated_parents_index_their_children_apart() -> None:
    fields = parse_fields(
        b"<xml><Item><Title>a</Title><Title>b</Title></Item>"
        b"<Item><Title>c</Title></Item><Title>d</Title></xml>"
    )
    assert dict(fields) == {
        "Item.Title": "a",
        "Item.Title[1]": "b",
        "Item[1].Title": "c",
        "Title": "d",
    }


def test_only_leaves_keep_text_and_an_empty_leaf_is_an_empty_string() -> None:
    fields = parse_fields(
        b"<xml>root text<Outer> before <Inner> in </Inner> after </Outer>"
        b"<Empty/><Split>a<![CDATA[ & b]]> c </Split></xml>"
    )
    assert dict(fields) == {"Outer.Inner": "in", "Empty": "", "Split": "a & b c"}


def test_a_document_with_no_children_has_no_fields() -> None:
    assert dict(parse_fields(b"<xml> only text </xml>")) == {}


def test_text_message() -> None:
    xml = (
        b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
        b"<CreateTime>1389684290</CreateTime><MsgType>text</MsgType>"
        b"<Content><![CDATA[hi ]]]]><![CDATA[>]]></Content>"
        b"<MsgId>1234567890123456</MsgId></xml>"
    )
    push = parse_push(xml)
    assert isinstance(push, TextMessage)
    assert push.msg_id == "1234567890123456"
    assert push.content == "hi ]]>"
    assert push.event == ""


def test_other_message() -> None:
    xml = (
        b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
        b"<CreateTime>1389684290</CreateTime><MsgType>image</MsgType><PicUrl>http://x</PicUrl>"
        b"<MediaId>m</MediaId><MsgId>42</MsgId></xml>"
    )
    push = parse_push(xml)
    assert isinstance(push, OtherMessage)
    assert push.msg_id == "42"
    assert push.fields["PicUrl"] == "http://x"


def test_str_body_is_accepted() -> None:
    assert isinstance(parse_push(v.SUBSCRIBE_SCAN_XML.decode()), SubscribeScanEvent)


# --- hostile and malformed input -------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>&xxe;</ToUserName><FromUserName>o</FromUserName>
<CreateTime>1389684286</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"""

XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<xml><ToUserName>a</ToUserName></xml>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<xml><Content>&lol9;</Content></xml>"""

PLAIN_DTD = b"""<?xml version="1.0"?><!DOCTYPE xml><xml><ToUserName>a</ToUserName></xml>"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (XXE, "forbidden XML construct"),
        (XXE_NETWORK, "forbidden XML construct"),
        (BILLION_LAUGHS, "forbidden XML construct"),
        (PLAIN_DTD, "forbidden XML construct"),
        (v.SUBSCRIBE_SCAN_XML[:-20], "not well-formed"),
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"not xml at all", "not well-formed"),
        (b'{"json": true}', "not well-formed"),
        (b"<html><body>hi</body></html>", "root element"),
        (b"<xml><a>1</a></xml><xml/>", "not well-formed"),
        (b'<xml xmlns:x="urn:x"><x:ToUserName>a</x:ToUserName></xml>', "namespaced"),
    ],
)
def test_hostile_or_malformed_xml_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPush, match=message):
        parse_push(body)


def test_oversize_body_is_refused_before_parsing() -> None:
    big = b"<xml><Content>" + b"a" * DEFAULT_MAX_BYTES + b"</Content></xml>"
    with pytest.raises(MalformedPush, match="65536-byte limit"):
        parse_push(big)


def test_size_limit_is_configurable() -> None:
    assert parse_push(v.SUBSCRIBE_SCAN_XML, max_bytes=len(v.SUBSCRIBE_SCAN_XML))
    with pytest.raises(MalformedPush, match="limit"):
        parse_push(v.SUBSCRIBE_SCAN_XML, max_bytes=100)


@pytest.mark.parametrize("field", ["ToUserName", "FromUserName", "CreateTime", "MsgType"])
def test_missing_common_field(field: str) -> None:
    xml = v.event_xml("subscribe", "qrscene_1").decode()
    start = xml.index(f"<{field}>")
    end = xml.index(f"</{field}>") + len(field) + 3
    with pytest.raises(MalformedPush, match=f"missing field {field}"):
        parse_push(xml[:start] + xml[end:])


def test_event_push_without_event_name() -> None:
    xml = (
        b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
        b"<CreateTime>1389684286</CreateTime><MsgType>event</MsgType></xml>"
    )
    with pytest.raises(MalformedPush, match="missing field Event"):
        parse_push(xml)


@pytest.mark.parametrize("value", ["abc", "12.5", "-1", "１２"])
def test_non_integer_create_time(value: str) -> None:
    with pytest.raises(MalformedPush, match="CreateTime must be an integer"):
        parse_push(v.event_xml("subscribe", "qrscene_1", create_time=value))
