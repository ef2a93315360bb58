"""Passive replies per scene, per channel and to a plain subscribe; encrypted when asked."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from tests.support import pushes as p
from tests.support.db_helpers import add_channel, add_scene
from wxqr.protocol import (
    SUCCESS,
    AccountKeys,
    Article,
    EncryptMode,
    ImageReply,
    NewsReply,
    ParsedReply,
    TextReply,
    open_reply,
    parse_reply,
)
from wxqr.service.accounts import set_default_subscribe_reply, update_account
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.workspace import Workspace
from wxqr.store import tables as t
from wxqr.web.app import WxqrApp

MakeClient = Callable[..., TestClient]
# Long enough that only a bump of the catalog version can explain a fresh answer.
LONG_TTL = {"cache_ttl_seconds": 600.0}


def catalog_of(client: TestClient) -> CatalogVersion:
    """The catalog version the app's webhook caches follow."""
    app = client.app
    assert isinstance(app, WxqrApp)
    catalog = app.state.catalog
    assert isinstance(catalog, CatalogVersion)
    return catalog


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
    set_default_subscribe_reply(
        engine, p.APPID, TextReply("Welcome, {openid}"), catalog=catalog_of(client)
    )
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
    catalog_of(client).bump()
    second = answer(client, p.scan("o-1", "5", now + 1), EncryptMode.PLAIN)
    assert isinstance(second, ParsedReply)
    assert second.reply == TextReply("new")


def warm_up(client: TestClient, now: int) -> None:
    """Two pushes: the first one's answer also learns the account's original id (which
    reloads the account), the second one is answered from the cache."""
    for n in range(2):
        assert answer(client, p.subscribe(f"o-warm-{n}", now), EncryptMode.PLAIN) == SUCCESS


def test_a_new_default_subscribe_reply_is_answered_at_once(
    make_client: MakeClient, engine: Engine
) -> None:
    """The account (and its default reply) is cached by the webhook: changing the reply
    must reach it at the next push, not after the cache's TTL."""
    client = make_client(**LONG_TTL)
    now = int(time.time())
    warm_up(client, now)
    set_default_subscribe_reply(
        engine, p.APPID, TextReply("Hello, {openid}"), catalog=catalog_of(client)
    )
    second = answer(client, p.subscribe("o-2", now + 1), EncryptMode.PLAIN)
    assert isinstance(second, ParsedReply)
    assert second.reply == TextReply("Hello, o-2")
    set_default_subscribe_reply(engine, p.APPID, None, catalog=catalog_of(client))
    assert answer(client, p.subscribe("o-3", now + 2), EncryptMode.PLAIN) == SUCCESS


def test_a_new_token_is_checked_at_once(make_client: MakeClient, engine: Engine) -> None:
    client = make_client(**LONG_TTL)
    now = int(time.time())
    warm_up(client, now)
    update_account(engine, p.APPID, token="rotated-token", catalog=catalog_of(client))
    rotated = AccountKeys(p.APPID, "rotated-token", None, EncryptMode.PLAIN)
    for keys, status in ((rotated, 200), (p.keys_for(EncryptMode.PLAIN), 403)):
        sealed = p.seal(p.subscribe("o-2", now + 1), keys)
        response = client.post(
            f"/wechat/{p.APPID}", params=sealed.query.to_params(), content=sealed.body
        )
        assert response.status_code == status


def test_a_channel_reply_changed_through_the_api_is_answered_at_once(
    make_client: MakeClient, engine: Engine
) -> None:
    """The REST API's services and the webhook's caches share the app's catalog version."""
    client = make_client(**LONG_TTL)
    channel = add_channel(engine, p.APPID, "shop", reply={"type": "text", "content": "old"})
    add_scene(engine, p.APPID, "7", channel_id=channel)
    now = int(time.time())
    first = answer(client, p.scan("o-1", "7", now), EncryptMode.PLAIN)
    assert isinstance(first, ParsedReply)
    assert first.reply == TextReply("old")
    app = client.app
    assert isinstance(app, WxqrApp)
    key = Workspace.open(engine, app.state.settings).api_keys.create("test").secret
    patched = client.patch(
        f"/api/v1/channels/{channel}",
        json={"reply": {"type": "text", "content": "new"}},
        headers={"X-API-Key": key},
    )
    assert patched.status_code == 200
    second = answer(client, p.scan("o-1", "7", now + 1), EncryptMode.PLAIN)
    assert isinstance(second, ParsedReply)
    assert second.reply == TextReply("new")
