"""Every event kind through the real endpoint, in all three modes, recorded exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import pushes as p
from tests.support.db_helpers import add_channel, add_scene, events, follower
from wxqr.protocol import SUCCESS, EncryptMode, SealedPush

MakeClient = Callable[..., TestClient]


def post(client: TestClient, sealed: SealedPush, path: str = f"/wechat/{p.APPID}") -> str:
    response = client.post(path, params=sealed.query.to_params(), content=sealed.body)
    assert response.status_code == 200, response.text
    return str(response.text)


@pytest.mark.parametrize("mode", p.MODES, ids=lambda m: m.value)
def test_every_kind_is_recorded(make_client: MakeClient, engine: Engine, mode: EncryptMode) -> None:
    client = make_client(mode)
    channel = add_channel(engine, p.APPID, "poster")
    scene_ref = add_scene(engine, p.APPID, "1000", channel_id=channel)
    keys = p.keys_for(mode)
    now = int(time.time())
    documents = [
        p.subscribe_scan("o-new", "1000", now),
        p.scan("o-old", "1000", now),
        p.subscribe("o-plain", now),
        p.unsubscribe("o-new", now + 1),
        p.click("o-old", now),
        p.text_message("o-old", now),
        p.scan("o-old", "poster_unknown", now + 2),
    ]
    for xml in documents:
        assert post(client, p.seal(xml, keys)) == SUCCESS
    rows = events(engine)
    assert [r["kind"] for r in rows] == [
        "subscribe_scan",
        "scan",
        "subscribe",
        "unsubscribe",
        "other_event",
        "message",
        "scan",
    ]
    sub, scan, plain, unsub, click, message, orphan = rows
    assert (sub["scene"], sub["scene_ref"], sub["channel_id"], sub["orphan"]) == (
        "1000",
        scene_ref,
        channel,
        False,
    )
    assert sub["event_key"] == "qrscene_1000"
    assert sub["ticket"] == "TICKET-1000"
    assert sub["create_time"] == now
    assert sub["received_at"] >= now * 1000
    assert sub["raw_xml"].startswith("<xml><ToUserName>")
    assert (scan["scene"], scan["channel_id"], scan["orphan"]) == ("1000", channel, False)
    assert (plain["scene"], plain["channel_id"], plain["orphan"]) == (None, None, False)
    # An unfollow is attributed to the channel that brought the follower.
    assert (unsub["scene"], unsub["channel_id"]) == (None, channel)
    assert (click["event"], click["event_key"]) == ("CLICK", "MENU_1")
    assert (message["msg_type"], message["event"]) == ("text", "")
    assert (orphan["scene"], orphan["scene_ref"], orphan["orphan"]) == (
        "poster_unknown",
        None,
        True,
    )
    assert {r["openid"] for r in rows} == {"o-new", "o-old", "o-plain"}


@pytest.mark.parametrize("mode", p.MODES, ids=lambda m: m.value)
def test_a_retry_is_recorded_once_and_answered_alike(
    make_client: MakeClient, engine: Engine, mode: EncryptMode
) -> None:
    client = make_client(mode)
    add_scene(engine, p.APPID, "7", reply={"type": "text", "content": "Hi {openid}"})
    now = int(time.time())
    xml = p.subscribe_scan("o-retry", "7", now)
    keys = p.keys_for(mode)
    answers = []
    for attempt in range(3):  # WeChat retries with a new timestamp and nonce
        answers.append(post(client, p.seal(xml, keys, timestamp=now + attempt)))
    assert len(events(engine)) == 1
    row = follower(engine, "o-retry")
    assert row is not None
    assert row["refollow_count"] == 0
    if mode is EncryptMode.PLAIN:
        assert all("Hi o-retry" in answer for answer in answers)
    else:
        assert all("<Encrypt>" in answer for answer in answers)


def test_different_events_in_the_same_second_are_all_kept(
    make_client: MakeClient, engine: Engine
) -> None:
    client = make_client()
    keys = p.keys_for(EncryptMode.PLAIN)
    now = int(time.time())
    for xml in (
        p.scan("o-1", "A", now),
        p.scan("o-1", "B", now),
        p.scan("o-2", "A", now),
        p.subscribe_scan("o-3", "A", now),
    ):
        post(client, p.seal(xml, keys, timestamp=now))
    rows = events(engine)
    assert [(r["openid"], r["scene"]) for r in rows] == [
        ("o-1", "A"),
        ("o-1", "B"),
        ("o-2", "A"),
        ("o-3", "A"),
    ]


def test_follow_unfollow_refollow_gives_the_right_follower_row(
    make_client: MakeClient, engine: Engine
) -> None:
    client = make_client()
    poster = add_channel(engine, p.APPID, "poster")
    shop = add_channel(engine, p.APPID, "shop")
    add_scene(engine, p.APPID, "1", channel_id=poster)
    add_scene(engine, p.APPID, "2", channel_id=shop)
    keys = p.keys_for(EncryptMode.PLAIN)
    t0 = int(time.time()) - 100
    post(client, p.seal(p.subscribe_scan("o-f", "1", t0), keys))
    row = follower(engine, "o-f")
    assert row is not None
    assert (row["following"], row["first_follow_at"], row["first_channel_id"]) == (True, t0, poster)
    post(client, p.seal(p.scan("o-f", "2", t0 + 5), keys))
    post(client, p.seal(p.unsubscribe("o-f", t0 + 10), keys))
    row = follower(engine, "o-f")
    assert row is not None
    assert (row["following"], row["unfollowed_at"], row["refollow_count"]) == (False, t0 + 10, 0)
    post(client, p.seal(p.subscribe_scan("o-f", "2", t0 + 20), keys))
    row = follower(engine, "o-f")
    assert row is not None
    assert row["following"] is True
    assert (row["first_follow_at"], row["first_scene"], row["first_channel_id"]) == (
        t0,
        "1",
        poster,
    )
    assert (row["last_follow_at"], row["last_scene"], row["last_channel_id"]) == (
        t0 + 20,
        "2",
        shop,
    )
    assert (row["unfollowed_at"], row["refollow_count"]) == (t0 + 10, 1)
    post(client, p.seal(p.unsubscribe("o-f", t0 + 30), keys))
    unsubscribes = [r for r in events(engine) if r["kind"] == "unsubscribe"]
    # First-touch attribution: both unfollows go to the channel that first brought them.
    assert [r["channel_id"] for r in unsubscribes] == [poster, poster]


def test_single_account_path_and_handshake(make_client: MakeClient, engine: Engine) -> None:
    client = make_client()
    keys = p.keys_for(EncryptMode.PLAIN)
    sealed = p.seal(p.subscribe("o-single", int(time.time())), keys)
    assert post(client, sealed, "/wechat") == SUCCESS
    assert len(events(engine)) == 1
    params = {**sealed.query.to_params(), "echostr": "echo-123"}
    for path in ("/wechat", f"/wechat/{p.APPID}"):
        answer = client.get(path, params=params)
        assert (answer.status_code, answer.text) == (200, "echo-123")
    bad = {**params, "signature": "0" * 40}
    assert client.get("/wechat", params=bad).status_code == 403
    assert client.get(f"/wechat/{p.OTHER_APPID}", params=params).status_code == 404
    assert client.get("/wechat", params=sealed.query.to_params()).status_code == 400
