from __future__ import annotations

from wxqr.protocol import dedup_key, parse_push

from . import vectors as v


def test_a_retry_has_the_same_key() -> None:
    first = parse_push(v.event_xml("subscribe", "qrscene_1", ticket="t"))
    retry = parse_push(v.event_xml("subscribe", "qrscene_1", ticket="t"))
    assert dedup_key(first) == dedup_key(retry)
    assert len(dedup_key(first)) == 40


def test_different_events_in_the_same_second_differ() -> None:
    keys = {
        dedup_key(parse_push(v.event_xml("subscribe", "qrscene_1"))),
        dedup_key(parse_push(v.event_xml("SCAN", "1"))),
        dedup_key(parse_push(v.event_xml("SCAN", "2"))),
        dedup_key(parse_push(v.event_xml("unsubscribe", ""))),
        dedup_key(parse_push(v.event_xml("SCAN", "1", openid="other"))),
        dedup_key(parse_push(v.event_xml("SCAN", "1", create_time="1389684287"))),
        dedup_key(parse_push(v.event_xml("SCAN", "1", to_user="gh_other"))),
    }
    assert len(keys) == 7


T0 = 1_389_684_286


def _message(msg_id: str, content: str, create_time: int = T0) -> bytes:
    id_field = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>text</MsgType>"
        f"<Content>{content}</Content>{id_field}</xml>"
    ).encode()


def test_messages_are_keyed_by_msg_id() -> None:
    assert dedup_key(parse_push(_message("42", "a", T0))) == dedup_key(
        parse_push(_message("42", "b", T0 + 1))
    )
    assert dedup_key(parse_push(_message("42", "a"))) != dedup_key(parse_push(_message("43", "a")))


def test_a_message_without_msg_id_falls_back_to_sender_and_time() -> None:
    a = dedup_key(parse_push(_message("", "a", T0)))
    assert a == dedup_key(parse_push(_message("", "b", T0)))
    assert a != dedup_key(parse_push(_message("", "a", T0 + 1)))
