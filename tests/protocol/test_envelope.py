from __future__ import annotations

import pytest

from wxqr.protocol import (
    AccountKeys,
    AppIdMismatch,
    EncryptMode,
    InvalidAESKey,
    InvalidSignature,
    MalformedPush,
    MessageCrypto,
    PushQuery,
    ScanEvent,
    StalePush,
    SubscribeScanEvent,
    TextReply,
    msg_signature,
    open_push,
    open_reply,
    parse_reply,
    render_reply,
    seal_push,
    seal_reply,
    signature,
    verify_url,
)

from . import vectors as v

NOW = 1_389_684_300
ALL_MODES = list(EncryptMode)


def keys(mode: EncryptMode, appid: str = v.AES_APPID) -> AccountKeys:
    aes = None if mode is EncryptMode.PLAIN else v.AES_KEY
    return AccountKeys(appid=appid, token=v.AES_TOKEN, encoding_aes_key=aes, mode=mode)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_seal_then_open_round_trips_in_every_mode(mode: EncryptMode) -> None:
    account = keys(mode)
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, account, timestamp=NOW, nonce="n1", openid="o")
    opened = open_push(sealed.body, sealed.query, account, now=NOW)
    assert isinstance(opened.push, SubscribeScanEvent)
    assert opened.push.scene == "1000"
    assert opened.encrypted is (mode is not EncryptMode.PLAIN)
    assert opened.timestamp == NOW
    assert opened.xml == v.SUBSCRIBE_SCAN_XML
    assert sealed.query.openid == "o"
    assert sealed.query.signature == signature(v.AES_TOKEN, str(NOW), "n1")


def test_safe_mode_body_holds_only_to_user_and_encrypt() -> None:
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.SAFE), timestamp=NOW, nonce="n")
    assert b"FromUserName" not in sealed.body
    assert b"<Encrypt>" in sealed.body
    assert sealed.query.encrypt_type == "aes"
    assert sealed.query.msg_signature


def test_compatible_mode_body_holds_plain_fields_and_encrypt() -> None:
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.COMPATIBLE), timestamp=NOW)
    assert b"<FromUserName>" in sealed.body
    assert b"<Encrypt>" in sealed.body


def test_compatible_mode_trusts_only_the_encrypted_copy() -> None:
    account = keys(EncryptMode.COMPATIBLE)
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, account, timestamp=NOW, nonce="n")
    forged = sealed.body.replace(b"qrscene_1000", b"qrscene_9999")
    opened = open_push(forged, sealed.query, account, now=NOW)
    assert isinstance(opened.push, SubscribeScanEvent)
    assert opened.push.scene == "1000"


def test_plain_account_refuses_an_encrypted_push() -> None:
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.SAFE), timestamp=NOW)
    with pytest.raises(MalformedPush, match="plain mode"):
        open_push(sealed.body, sealed.query, keys(EncryptMode.PLAIN), now=NOW)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_bad_signature_is_refused(mode: EncryptMode) -> None:
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, keys(mode), timestamp=NOW, nonce="n")
    query = PushQuery.from_params({**sealed.query.to_params(), "signature": "0" * 40})
    with pytest.raises(InvalidSignature):
        open_push(sealed.body, query, keys(mode), now=NOW)


@pytest.mark.parametrize("mode", [EncryptMode.SAFE, EncryptMode.COMPATIBLE])
def test_bad_or_missing_msg_signature_is_refused(mode: EncryptMode) -> None:
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, keys(mode), timestamp=NOW, nonce="n")
    for bad in ("0" * 40, ""):
        query = PushQuery.from_params({**sealed.query.to_params(), "msg_signature": bad})
        with pytest.raises(InvalidSignature, match="msg_signature"):
            open_push(sealed.body, query, keys(mode), now=NOW)


def test_tampered_ciphertext_is_refused_by_msg_signature() -> None:
    account = keys(EncryptMode.SAFE)
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, account, timestamp=NOW, nonce="n")
    tampered = sealed.body.replace(b"<![CDATA[", b"<![CDATA[AAAA", 2)
    with pytest.raises(InvalidSignature):
        open_push(tampered, sealed.query, account, now=NOW)


def test_stale_timestamp_is_refused() -> None:
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.PLAIN), timestamp=NOW - 601)
    with pytest.raises(StalePush):
        open_push(sealed.body, sealed.query, keys(EncryptMode.PLAIN), now=NOW)
    assert open_push(sealed.body, sealed.query, keys(EncryptMode.PLAIN), now=NOW, max_age=0)


def test_wrong_appid_in_ciphertext_is_refused() -> None:
    sealed = seal_push(
        v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.SAFE, "wxattacker0000000"), timestamp=NOW
    )
    with pytest.raises(AppIdMismatch):
        open_push(sealed.body, sealed.query, keys(EncryptMode.SAFE), now=NOW)


def test_envelope_to_user_must_match_the_message() -> None:
    account = keys(EncryptMode.SAFE)
    sealed = seal_push(v.SUBSCRIBE_SCAN_XML, account, timestamp=NOW, nonce="n")
    body = sealed.body.replace(b"gh_45072270791c", b"gh_other")
    with pytest.raises(MalformedPush, match="differ"):
        open_push(body, sealed.query, account, now=NOW)


def test_encrypted_push_without_encrypt_field() -> None:
    account = keys(EncryptMode.SAFE)
    ts, nonce = str(NOW), "n"
    query = PushQuery(signature(v.AES_TOKEN, ts, nonce), ts, nonce, "", "aes", "x")
    with pytest.raises(MalformedPush, match="without an Encrypt"):
        open_push(b"<xml><ToUserName>gh</ToUserName></xml>", query, account, now=NOW)


def test_oversize_body_refused_before_signature_work() -> None:
    query = PushQuery("bad", str(NOW), "n")
    with pytest.raises(MalformedPush, match="limit"):
        open_push(b"<xml>" + b"a" * 70_000 + b"</xml>", query, keys(EncryptMode.PLAIN))


def test_hostile_xml_with_a_valid_signature_is_malformed_not_parsed() -> None:
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>'
    sealed_query = seal_push(v.SUBSCRIBE_SCAN_XML, keys(EncryptMode.PLAIN), timestamp=NOW).query
    with pytest.raises(MalformedPush, match="forbidden"):
        open_push(body, sealed_query, keys(EncryptMode.PLAIN), now=NOW)


def test_query_round_trip_and_flags() -> None:
    params = {
        "signature": "s",
        "timestamp": "1",
        "nonce": "n",
        "openid": "o",
        "encrypt_type": "AES",
        "msg_signature": "m",
    }
    query = PushQuery.from_params(params)
    assert query.encrypted
    assert query.to_params() == params
    assert PushQuery.from_params({}).to_params() == {"signature": "", "timestamp": "", "nonce": ""}


def test_account_keys_hide_secrets_and_validate() -> None:
    account = keys(EncryptMode.SAFE)
    assert v.AES_TOKEN not in repr(account)
    assert v.AES_KEY not in repr(account)
    assert isinstance(account.crypto, MessageCrypto)
    assert keys(EncryptMode.PLAIN).crypto is None
    with pytest.raises(ValueError, match="needs an EncodingAESKey"):
        AccountKeys("wx1", "t", None, EncryptMode.SAFE)
    with pytest.raises(InvalidAESKey):
        AccountKeys("wx1", "t", "short", EncryptMode.SAFE)


def test_url_verification_echoes_only_with_a_valid_signature() -> None:
    ts, nonce = "1410685589", "test"
    good = PushQuery(v.PLAIN_SIGNATURE, ts, nonce)
    assert verify_url("test", good, "echo-123") == "echo-123"
    with pytest.raises(InvalidSignature):
        verify_url("test", PushQuery(v.PLAIN_SIGNATURE_MUST_FAIL, ts, nonce), "echo-123")


def test_encrypted_reply_round_trip() -> None:
    account = keys(EncryptMode.SAFE)
    xml = render_reply(TextReply("你好 ]]> there"), to_user="o1", from_user="gh_1", create_time=9)
    envelope = seal_reply(xml, account, timestamp="1409304348", nonce="xxxxxx")
    assert "<MsgSignature>" in envelope
    assert "<TimeStamp>1409304348</TimeStamp>" in envelope
    plain = open_reply(envelope, account)
    parsed = parse_reply(plain)
    assert parsed.reply == TextReply("你好 ]]> there")
    assert (parsed.to_user, parsed.from_user, parsed.create_time) == ("o1", "gh_1", 9)


def test_encrypted_reply_with_bad_signature_is_refused() -> None:
    account = keys(EncryptMode.SAFE)
    envelope = seal_reply("<xml/>", account, timestamp="1", nonce="n")
    forged = envelope.replace("<TimeStamp>1<", "<TimeStamp>2<")
    with pytest.raises(InvalidSignature):
        open_reply(forged, account)


def test_sealing_or_opening_a_reply_needs_a_key() -> None:
    with pytest.raises(ValueError, match="EncodingAESKey"):
        seal_reply("<xml/>", keys(EncryptMode.PLAIN), timestamp="1", nonce="n")
    with pytest.raises(MalformedPush, match="not an encrypted reply"):
        open_reply("<xml><a>1</a></xml>", keys(EncryptMode.SAFE))


def test_official_msg_signature_matches_a_sealed_reply_of_the_sample() -> None:
    crypto = MessageCrypto(v.AES_KEY, v.AES_APPID)
    encrypt = crypto.encrypt(v.AES_PLAINTEXT, random16=v.AES_RANDOM16)
    assert msg_signature(v.AES_TOKEN, v.AES_TIMESTAMP, v.AES_NONCE, encrypt) == (
        v.AES_MSG_SIGNATURE
    )


def test_scan_push_of_a_follower() -> None:
    account = keys(EncryptMode.SAFE)
    sealed = seal_push(v.event_xml("SCAN", "1000"), account, timestamp=NOW)
    assert isinstance(open_push(sealed.body, sealed.query, account, now=NOW).push, ScanEvent)
