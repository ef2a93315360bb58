"""Passive replies per scene, per channel and to a plain subscribe; encrypted when asked."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from tests.web import pushes as p
from tests.web.db_helpers import add_channel, add_scene
from wxqr.protocol import (
    SUCCESS,
    Article,
    EncryptMode,
    ImageReply,
    NewsReply,
    ParsedReply,
    TextReply,
    open_reply,
    parse_reply,
)
from wxqr.service.accounts import set_default_subscribe_reply
from wxqr.service.ingest import invalidate_catalog
from wxqr.store import tables as t

MakeClient = Callable[..., TestClient]


def answer(client: TestClient, xml: str, mode: EncryptMode) -> ParsedReply | str:
    keys = p.keys_for(mode)
    sealed = p.seal(xml, keys)
    response = client.post(
        f"/wechat/{p.APPID}", params=sealed.query.to_params(), content=sealed.body
    )
    assert response.status_code == 200
    if response.text == SUCCESS:
        return SUCCESS
    body = open_reply(response.content, keys) if mode is not EncryptMode.PLAIN else response.content
    return parse_reply(body)


@pytest.mark.parametrize("mode", p.MODES, ids=lambda m: m.value)
def test_replies_per_scene_channel_and_subscribe(
    make_client: MakeClient, engine: Engine, mode: EncryptMode
) -> None:
    client = make_client(mode)
    news = {
        "type": "news",
        "articles": [{"title": "Offer for {openid}", "url": "https://example.com/{scene}"}],
    }
    channel = add_channel(engine, p.APPID, "shop", reply=news)
    add_scene(engine, p.APPID, "42", channel_id=channel)
    add_scene(
        engine, p.APPID, "tv", channel_id=channel, reply={"type": "text", "content": "{scene}!"}
    )
    add_scene(engine, p.APPID, "img", reply={"type": "image", "media_id": "MEDIA-1"})
    set_default_subscribe_reply(engine, p.APPID, TextReply("Welcome, {openid}"))
    now = int(time.time())

    tv = answer(client, p.subscribe_scan("o-a", "tv", now), mode)
    assert isinstance(tv, ParsedReply)
    assert tv.reply == TextReply("tv!")
    assert (tv.to_user, tv.from_user) == ("o-a", p.ORIGINAL_ID)
    shop = answer(client, p.scan("o-b", "42", now), mode)
    assert isinstance(shop, ParsedReply)
    assert shop.reply == NewsReply((Article("Offer for o-b", url="https://example.com/42"),))
    image = answer(client, p.scan("o-c", "img", now), mode)
    assert isinstance(image, ParsedReply)
    assert image.reply == ImageReply("MEDIA-1")
    plain = answer(client, p.subscribe("o-d", now), mode)
    assert isinstance(plain, ParsedReply)
    assert plain.reply == TextReply("Welcome, o-d")
    # A new follower through a scene without a reply of its own gets the welcome.
    orphan = answer(client, p.subscribe_scan("o-e", "nowhere", now), mode)
    assert isinstance(orphan, ParsedReply)
    assert orphan.reply == TextReply("Welcome, o-e")
    assert answer(client, p.scan("o-e", "nowhere", now + 1), mode) == SUCCESS
    assert answer(client, p.unsubscribe("o-a", now + 1), mode) == SUCCESS
    assert answer(client, p.click("o-b", now + 1), mode) == SUCCESS


def test_a_changed_reply_is_used_after_invalidation(
    make_client: MakeClient, engine: Engine
) -> None:
    client = make_client()
    scene_ref = add_scene(engine, p.APPID, "5", reply={"type": "text", "content": "old"})
    now = int(time.time())
    first = answer(client, p.scan("o-1", "5", now), EncryptMode.PLAIN)
    assert isinstance(first, ParsedReply)
    assert first.reply == TextReply("old")
    with engine.begin() as conn:
        conn.execute(
            update(t.scenes)
            .where(t.scenes.c.id == scene_ref)
            .values(reply={"type": "text", "content": "new"})
        )
    invalidate_catalog()
    second = answer(client, p.scan("o-1", "5", now + 1), EncryptMode.PLAIN)
    assert isinstance(second, ParsedReply)
    assert second.reply == TextReply("new")
