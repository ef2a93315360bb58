"""Pushes to the account's server: modes, signatures, retries, replies, what users see."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from wxqr.emulator import SERVICE_UNAVAILABLE, ScanResult
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator
from wxqr.protocol import (
    AccountKeys,
    EncryptMode,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    TextMessage,
    TextReply,
    UnsubscribeEvent,
    parse_fields,
    signature,
)

from .conftest import AES_KEY, APPID, ORIGINAL_ID, TOKEN
from .receiver import Answer, Receiver, running_receiver
from .test_qrcode import create, perm, temp


@pytest.fixture(params=[m.value for m in EncryptMode])
def mode(request: pytest.FixtureRequest, emu: RunningEmulator) -> EncryptMode:
    chosen = EncryptMode(request.param)
    emu.update_account(APPID, mode=chosen.value)
    return chosen


@pytest.fixture
def receiver(emu: RunningEmulator, mode: EncryptMode) -> Iterator[Receiver]:
    keys = AccountKeys(APPID, TOKEN, AES_KEY, mode)
    with running_receiver(keys) as rec:
        emu.set_push_url(APPID, rec.url)
        yield rec


@pytest.fixture
def plain_receiver(emu: RunningEmulator) -> Iterator[Receiver]:
    emu.update_account(APPID, mode="plain")
    with running_receiver(AccountKeys(APPID, TOKEN, AES_KEY, EncryptMode.PLAIN)) as rec:
        emu.set_push_url(APPID, rec.url)
        yield rec


def _code(http: httpx.Client, token: str, scene: int | str = 42) -> dict[str, str]:
    data = create(http, token, temp(scene))
    return {"ticket": data["ticket"], "url": data["url"]}


def test_scan_pushes_signed_subscribe_in_every_mode(
    emu: RunningEmulator, http: httpx.Client, token: str, receiver: Receiver, mode: EncryptMode
) -> None:
    code = _code(http, token)
    result = emu.scan("o-new", ticket=code["ticket"])
    assert result.outcome == "subscribe"
    assert result.error is None
    assert result.reply is None
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.error is None
    query = got.query
    assert query.signature == signature(TOKEN, query.timestamp, query.nonce)
    assert query.openid == "o-new"
    fields = parse_fields(got.body)
    if mode is EncryptMode.PLAIN:
        assert (query.encrypt_type, query.msg_signature) == ("", "")
        assert "Encrypt" not in fields
    else:
        assert query.encrypt_type == "aes"
        assert query.msg_signature
        assert "Encrypt" in fields
        plain_fields = {"FromUserName", "CreateTime", "Event", "EventKey"}
        assert (
            plain_fields <= set(fields)
            if mode is EncryptMode.COMPATIBLE
            else (set(fields) == {"ToUserName", "Encrypt"})
        )
    assert got.opened is not None
    push = got.opened.push
    assert isinstance(push, SubscribeScanEvent)
    assert (push.scene, push.ticket, push.to_user) == ("42", code["ticket"], ORIGINAL_ID)
    assert push.from_user == "o-new"
    assert got.opened.encrypted is (mode is not EncryptMode.PLAIN)


def test_follower_scan_is_SCAN_with_bare_scene(
    emu: RunningEmulator, http: httpx.Client, token: str, receiver: Receiver
) -> None:
    code = _code(http, token, "shop-9")
    emu.follow("o-fan")
    result = emu.scan("o-fan", url=code["url"])
    assert result.outcome == "scan"
    push = receiver.received[-1].opened
    assert push is not None
    assert isinstance(push.push, ScanEvent)
    assert push.push.event == "SCAN"
    assert push.push.event_key == "shop-9"
    assert push.push.ticket == code["ticket"]


def test_passive_reply_is_what_the_user_sees(
    emu: RunningEmulator, http: httpx.Client, token: str, receiver: Receiver
) -> None:
    receiver.answer_with(Answer(reply="欢迎 from scene 42"))
    result = emu.scan("o-r", ticket=_code(http, token)["ticket"])
    assert result.reply == TextReply("欢迎 from scene 42")
    assert result.error is None
    assert len(result.attempts) == 1


def test_safe_mode_refuses_a_plaintext_reply(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    emu.update_account(APPID, mode="safe")
    keys = AccountKeys(APPID, TOKEN, AES_KEY, EncryptMode.SAFE)
    with running_receiver(keys, [Answer(reply="hi", encrypt_reply=False)]) as rec:
        emu.set_push_url(APPID, rec.url)
        result = emu.scan("o-s", ticket=_code(http, token)["ticket"])
    assert result.reply is None
    assert result.error == SERVICE_UNAVAILABLE


def test_compatible_mode_accepts_a_plaintext_reply(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    emu.update_account(APPID, mode="compatible")
    keys = AccountKeys(APPID, TOKEN, AES_KEY, EncryptMode.COMPATIBLE)
    with running_receiver(keys, [Answer(reply="hi", encrypt_reply=False)]) as rec:
        emu.set_push_url(APPID, rec.url)
        result = emu.scan("o-c", ticket=_code(http, token)["ticket"])
    assert result.reply == TextReply("hi")


@pytest.mark.parametrize("body", ["", "success", "  success\n"])
def test_success_or_empty_ends_it_silently(
    emu: RunningEmulator, http: httpx.Client, token: str, plain_receiver: Receiver, body: str
) -> None:
    plain_receiver.answer_with(Answer(body=body))
    result = emu.scan("o-q", ticket=_code(http, token)["ticket"])
    assert result.pushes[0].delivered
    assert (result.reply, result.error) == (None, None)
    assert [a.status for a in result.attempts] == [200]


def test_garbage_answer_shows_the_error_without_retry(
    emu: RunningEmulator, http: httpx.Client, token: str, plain_receiver: Receiver
) -> None:
    plain_receiver.answer_with(Answer(body="hello there"))
    result = emu.scan("o-g", ticket=_code(http, token)["ticket"])
    assert result.error == SERVICE_UNAVAILABLE
    assert len(result.attempts) == 1
    assert result.attempts[0].error is not None


def test_slow_server_gets_the_same_push_three_times(
    emu: RunningEmulator, http: httpx.Client, token: str, plain_receiver: Receiver
) -> None:
    emu.configure(push_timeout=0.25)
    plain_receiver.answer_with(Answer(delay=0.6), Answer(delay=0.6), Answer())
    result = emu.scan("o-slow", ticket=_code(http, token)["ticket"])
    assert [a.error for a in result.attempts] == ["timeout", "timeout", None]
    assert result.pushes[0].delivered
    assert result.error is None
    assert len(plain_receiver.received) == 3
    bodies = {r.body for r in plain_receiver.received}
    queries = {r.query for r in plain_receiver.received}
    assert len(bodies) == 1
    assert len(queries) == 1
    times = {r.opened.push.create_time for r in plain_receiver.received if r.opened}
    assert len(times) == 1


def test_slow_server_three_times_shows_the_error(
    emu: RunningEmulator, http: httpx.Client, token: str, plain_receiver: Receiver
) -> None:
    emu.configure(push_timeout=0.2)
    plain_receiver.answer_with(Answer(delay=0.5))
    result = emu.scan("o-slow2", ticket=_code(http, token)["ticket"])
    assert [a.error for a in result.attempts] == ["timeout"] * 3
    assert result.error == SERVICE_UNAVAILABLE
    assert not result.pushes[0].delivered
    # the follow happened anyway
    assert [f.openid for f in emu.followers()] == ["o-slow2"]


def test_failing_server_is_tried_three_times(
    emu: RunningEmulator, http: httpx.Client, token: str, plain_receiver: Receiver
) -> None:
    plain_receiver.answer_with(Answer(status=500, body="oops"), Answer(status=503), Answer())
    result = emu.scan("o-f", ticket=_code(http, token)["ticket"])
    assert [a.status for a in result.attempts] == [500, 503, 200]
    assert result.error is None
    emu.configure(push_tries=2)
    plain_receiver.answer_with(Answer(status=500))
    result = emu.scan("o-f2", ticket=_code(http, token)["ticket"])
    assert [a.status for a in result.attempts] == [500, 500]
    assert result.error == SERVICE_UNAVAILABLE


def test_unreachable_server(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    emu.set_push_url(APPID, f"http://127.0.0.1:{port}/wechat")
    result = emu.scan("o-u", ticket=_code(http, token)["ticket"])
    assert len(result.attempts) == 3
    for attempt in result.attempts:
        assert attempt.status is None
        assert (attempt.error or "").startswith("connection")
    assert result.error == SERVICE_UNAVAILABLE


def test_unknown_code_pushes_nothing(emu: RunningEmulator, plain_receiver: Receiver) -> None:
    result = emu.scan("o-x", url="http://weixin.qq.com/q/02doesnotexist0000000")
    assert result == ScanResult("unknown_code", "o-x")
    assert plain_receiver.received == []
    assert emu.followers() == []


def test_follow_unsubscribe_message(emu: RunningEmulator, plain_receiver: Receiver) -> None:
    assert emu.message("o-m", "hi").outcome == "not_following"
    assert emu.follow("o-m").outcome == "follow"
    assert emu.follow("o-m").outcome == "already_following"
    assert emu.message("o-m", "你好 ]]> world").outcome == "message"
    assert emu.unsubscribe("o-m").outcome == "unsubscribe"
    assert emu.unsubscribe("o-m").outcome == "not_following"
    pushes = [r.opened.push for r in plain_receiver.received if r.opened]
    assert len(pushes) == 3
    follow, message, unfollow = pushes
    assert isinstance(follow, SubscribeEvent)
    assert follow.event_key == ""
    assert isinstance(message, TextMessage)
    assert message.content == "你好 ]]> world"
    assert message.msg_id.isdigit()
    assert isinstance(unfollow, UnsubscribeEvent)
    assert "EventKey" not in unfollow.fields
    log = emu.pushes(openid="o-m")
    assert [p.kind for p in log] == ["subscribe", "text", "unsubscribe"]
    assert all(p.delivered and len(p.attempts) == 1 for p in log)


def test_create_time_follows_the_emulator_clock(
    emu: RunningEmulator, http: httpx.Client, token: str, plain_receiver: Receiver
) -> None:
    code = create(http, token, perm(5))
    later = emu.advance(3 * 86_400)
    emu.scan("o-t", url=code["url"])
    got = plain_receiver.received[-1]
    assert abs(int(parse_fields(got.body)["CreateTime"]) - later) < 5
    # three days ahead of the receiver's real clock: open_push refuses it (issue 14)
    assert got.opened is None
    assert got.error is not None
    assert "CreateTime" in got.error
    # the signature timestamp stays real time, so the server's freshness check holds
    assert abs(int(got.query.timestamp) - (later - 3 * 86_400)) < 5


def test_url_verification_handshake(emu: RunningEmulator, plain_receiver: Receiver) -> None:
    assert emu.verify_push_url()
    emu.update_account(APPID, token="another-token")
    assert not emu.verify_push_url()


def test_several_accounts_each_with_its_own_keys() -> None:
    aes_b = "B" * 43
    a = EmulatorAccount(appid="wxaaaaaaaaaaaaaaaa", secret="sa", token="ta")
    b = EmulatorAccount(
        appid="wxbbbbbbbbbbbbbbbb",
        secret="sb",
        token="tb",
        aes_key=aes_b,
        mode="safe",
        original_id="gh_bbbbbbbbbbbb",
    )
    with (
        running_emulator(accounts=[a, b], push_timeout=1.0) as emu,
        running_receiver(a.keys) as rec_a,
        running_receiver(b.keys) as rec_b,
        httpx.Client(base_url=emu.base_url) as http,
    ):
        emu.set_push_url(a.appid, rec_a.url)
        emu.set_push_url(b.appid, rec_b.url)
        tokens = {}
        for acct in (a, b):
            params = {"grant_type": "client_credential", "appid": acct.appid, "secret": acct.secret}
            tokens[acct.appid] = http.get("/cgi-bin/token", params=params).json()["access_token"]
        code_b = create(http, tokens[b.appid], temp(7))
        assert emu.scan("o1", ticket=code_b["ticket"]).appid == b.appid
        assert rec_a.received == []
        opened = rec_b.received[0].opened
        assert opened is not None
        assert opened.encrypted
        assert opened.push.to_user == "gh_bbbbbbbbbbbb"
        # a token of account A cannot see B's followers
        info = http.get(
            "/cgi-bin/user/info", params={"access_token": tokens[a.appid], "openid": "o1"}
        ).json()
        assert info["errcode"] == 40003
        with pytest.raises(ValueError, match="several accounts"):
            emu.follow("o2")
        assert emu.follow("o2", appid=a.appid).outcome == "follow"
        assert [f.openid for f in emu.followers(a.appid)] == ["o2"]
