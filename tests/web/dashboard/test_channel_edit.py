"""The channel edit page: name, group, tags, payload and the reply (text, image, news) with
its preview; archive and restore; the code history; bad input shown on the form."""

from __future__ import annotations

import re

import httpx

from tests.support.stack import Stack
from wxqr.protocol import NewsReply, TextReply

PASSWORD = "correct horse battery"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def test_edit_a_channel_and_its_reply_with_a_preview(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with stack.client() as api:
        made = api.post("/api/v1/channels", json={"name": "Shop", "code": {"kind": "temporary"}})
        made.raise_for_status()
        channel_id = made.json()["id"]
    code = stack.ws.codes.current_code(channel_id)
    assert code is not None
    with httpx.Client(base_url=stack.base_url, timeout=30, follow_redirects=True) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        page = client.get(f"/dashboard/channels/{channel_id}/edit")
        assert page.status_code == 200
        assert 'id="code-history"' in page.text
        assert f"<code>{code.scene}</code>" in page.text
        csrf = _csrf(page.text)
        base = {"csrf": csrf, "action": "save", "name": "门店 A", "group": "shops"}

        saved = client.post(
            f"/dashboard/channels/{channel_id}/edit",
            data={
                **base,
                "tags": "north，spring",
                "payload": '{"store": 12}',
                "reply_type": "text",
                "reply_text": "欢迎光临 {scene}",
            },
        )
        assert saved.status_code == 200  # followed to the page again
        assert "Saved." in saved.text
        channel = stack.ws.channels.get(channel_id)
        assert (channel.name, channel.group, channel.tags) == (
            "门店 A",
            "shops",
            ("north", "spring"),
        )
        assert channel.payload == {"store": 12}
        assert channel.reply == TextReply("欢迎光临 {scene}")
        # The preview fills the placeholders as the webhook does for this channel's scene.
        assert f"欢迎光临 {code.scene}" in saved.text

        news = client.post(
            f"/dashboard/channels/{channel_id}/edit",
            data={
                **base,
                "reply_type": "news",
                "title": "春季新品",
                "url": "https://shop.example/",
            },
        )
        assert news.status_code == 200
        reply = stack.ws.channels.get(channel_id).reply
        assert isinstance(reply, NewsReply)
        assert reply.articles[0].title == "春季新品"

        for bad in (
            {"reply_type": "image", "media_id": ""},
            {"reply_type": "text", "payload": "{not json"},
            {"reply_type": "sticker"},
            {"name": ""},
        ):
            refused = client.post(f"/dashboard/channels/{channel_id}/edit", data={**base, **bad})
            assert refused.status_code == 422, bad
            assert 'role="alert"' in refused.text
        assert stack.ws.channels.get(channel_id).reply == reply  # nothing changed

        archived = client.post(
            f"/dashboard/channels/{channel_id}/edit", data={"csrf": csrf, "action": "archive"}
        )
        assert 'id="restore"' in archived.text
        assert stack.ws.channels.get(channel_id).archived
        client.post(
            f"/dashboard/channels/{channel_id}/edit", data={"csrf": csrf, "action": "restore"}
        )
        assert not stack.ws.channels.get(channel_id).archived

        forged = client.post(
            f"/dashboard/channels/{channel_id}/edit", data={**base, "csrf": "forged"}
        )
        assert forged.status_code == 403
        gone = client.get("/dashboard/channels/999999/edit")
        assert gone.status_code == 404
        assert forged.status_code == 403
