"""Push-side defences of issue 14: each test failed on the code before the fix."""

from __future__ import annotations

import time

import pytest

from wxqr.protocol import (
    AccountKeys,
    EncryptMode,
    MalformedPush,
    ScanEvent,
    open_push,
    parse_fields,
    parse_push,
    seal_push,
)

from . import vectors as v

NOW = 1_389_684_300
EARLIEST_CREATE_TIME = 1_325_376_000  # 2012-01-01T00:00:00Z
MAX_CREATE_TIME_AHEAD = 86_400
MAX_DEPTH = 32


def keys(mode: EncryptMode) -> AccountKeys:
    aes = None if mode is EncryptMode.PLAIN else v.AES_KEY
    return AccountKeys(appid=v.AES_APPID, token=v.AES_TOKEN, encoding_aes_key=aes, mode=mode)


# --- 4: an encrypting account never takes a plaintext push ----------------------------


@pytest.mark.parametrize("mode", [EncryptMode.COMPATIBLE, EncryptMode.SAFE])
def test_an_encrypting_account_refuses_a_plaintext_push(mode: EncryptMode) -> None:
    downgraded = seal_push(v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.PLAIN), timestamp=NOW)
    assert downgraded.query.encrypt_type == ""
    assert b"<Encrypt>" not in downgraded.body
    with pytest.raises(MalformedPush, match="takes only encrypted pushes"):
        open_push(downgraded.body, downgraded.query, keys(mode), now=NOW)


def test_a_compatible_push_carries_plain_fields_encrypt_and_aes_query() -> None:
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.COMPATIBLE), timestamp=NOW)
    assert sealed.query.encrypted
    assert sealed.query.msg_signature
    opened = open_push(sealed.body, sealed.query, keys(EncryptMode.COMPATIBLE), now=NOW)
    assert opened.encrypted


# --- 8: CreateTime must be a time WeChat could have sent -------------------------------


def _with_time(create_time: str) -> bytes:
    return v.event_xml("subscribe", "qrscene_1", create_time=create_time)


@pytest.mark.parametrize(
    "value",
    [
        "9223372036854775807",  # stored, then broke every events page that held it
        str(10**30),  # overflowed the database column: 503, retried in vain
        "9" * 4400,  # int() refuses more than 4,300 digits with a bare ValueError: 500
        "0",
        str(EARLIEST_CREATE_TIME - 1),
    ],
    ids=["int64-max", "1e30", "4400-digits", "zero", "before-2012"],
)
def test_create_time_out_of_range_is_malformed(value: str) -> None:
    with pytest.raises(MalformedPush, match="CreateTime"):
        parse_push(_with_time(value))


def test_create_time_more_than_a_day_ahead_is_malformed() -> None:
    now = time.time()
    ahead = int(now) + MAX_CREATE_TIME_AHEAD + 60
    with pytest.raises(MalformedPush, match="CreateTime"):
        parse_push(_with_time(str(ahead)))
    assert parse_push(_with_time(str(int(now) + 3600))).create_time == int(now) + 3600


def test_create_time_bounds_follow_the_clock_given_to_open_push() -> None:
    account = keys(EncryptMode.SAFE)
    future = v.SUBSCRIBE_SCAN_XML.replace(b"1389684286", str(NOW + 2 * 86_400).encode())
    sealed = seal_push(future, account, timestamp=NOW)
    with pytest.raises(MalformedPush, match="CreateTime"):
        open_push(sealed.body, sealed.query, account, now=NOW)
    assert open_push(sealed.body, sealed.query, account, now=NOW + 86_400, max_age=0)


def test_the_earliest_create_time_is_accepted() -> None:
    assert parse_push(_with_time(str(EARLIEST_CREATE_TIME))).create_time == EARLIEST_CREATE_TIME


# --- 9: encodings and empty scenes -----------------------------------------------------


def test_a_gbk_declared_body_with_gbk_bytes_is_malformed() -> None:
    body = '<?xml version="1.0" encoding="GBK"?><xml><Content>中文</Content></xml>'.encode("gbk")
    with pytest.raises(MalformedPush, match="not well-formed"):
        parse_fields(body)


def test_a_declared_encoding_is_ignored_the_body_is_read_as_utf8() -> None:
    body = '<?xml version="1.0" encoding="GBK"?><xml><Content>中文</Content></xml>'.encode()
    assert parse_fields(body) == {"Content": "中文"}
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><xml><C>\xe9</C></xml>'.encode("latin-1")
    with pytest.raises(MalformedPush, match="not well-formed"):
        parse_fields(latin)


def test_a_utf16_body_is_malformed() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><xml><Content>x</Content></xml>'
    with pytest.raises(MalformedPush, match="UTF-8"):
        parse_fields(body.encode("utf-16"))


@pytest.mark.parametrize("key", ["", None], ids=["empty", "absent"])
def test_a_scan_with_an_empty_event_key_is_a_scan_of_the_empty_scene(key: str | None) -> None:
    push = parse_push(v.event_xml("SCAN", key))
    assert isinstance(push, ScanEvent)
    assert push.scene == ""
    assert push.scene_id is None


# --- 14: nesting depth ----------------------------------------------------------------


def _nested(depth: int) -> bytes:
    """A document whose deepest element is ``depth`` levels down (``<xml>`` is level 1)."""
    inner = depth - 1
    return b"<xml>" + b"<a>" * inner + b"x" + b"</a>" * inner + b"</xml>"


def test_nesting_up_to_the_limit_is_parsed() -> None:
    fields = parse_fields(_nested(MAX_DEPTH))
    assert list(fields.values()) == ["x"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 9000])
def test_deeper_nesting_is_malformed(depth: int) -> None:
    with pytest.raises(MalformedPush, match="nested deeper"):
        parse_fields(_nested(depth))


def test_deep_nesting_is_refused_as_soon_as_the_limit_is_crossed() -> None:
    # Not well-formed after the deep part: the depth error comes first, so expat stopped
    # there rather than reading (and building names for) the rest.
    body = b"<xml>" + b"<a>" * (MAX_DEPTH + 5) + b"<<<"
    with pytest.raises(MalformedPush, match="nested deeper"):
        parse_fields(body)
