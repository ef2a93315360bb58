"""A reply per scene: a channel with two codes answers each scene with its own reply,
edited on the dashboard with a preview; viewers read it, cannot change it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.support.stack import Stack, openids
from wxqr.protocol import TextReply
from wxqr.service.code_spec import parse_code_spec
from wxqr.service.dashboard_users import Role
from wxqr.service.errors import ForbiddenError, NotFoundError

PASSWORD = "correct horse battery"


@contextmanager
def _browser(stack: Stack, name: str, role: Role) -> Iterator[httpx.Client]:
    """A logged-in browser of a new user with ``role``."""
    stack.ws.dashboard_users.add(name, PASSWORD, role=role)
    with httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30) as client:
        done = client.post("/dashboard/login", data={"name": name, "password": PASSWORD})
        assert done.status_code == 303
        yield client


def test_each_scene_answers_with_its_own_reply(stack: Stack) -> None:
    with stack.client() as api:
        made = api.post(
            "/api/v1/channels",
            json={
                "name": "两张海报",
                "code": {},
                "reply": {"type": "text", "content": "渠道 {scene}"},
            },
        )
        made.raise_for_status()
    channel_id = made.json()["id"]
    first = stack.ws.codes.current_code(channel_id)
    assert first is not None
    second = stack.ws.codes.issue(channel_id, parse_code_spec("permanent"))
    assert second.scene != first.scene

    with _browser(stack, "editor", Role.EDITOR) as client:
        edit = client.get(f"/dashboard/channels/{channel_id}/edit")
        assert f'data-scene="{first.scene}"' in edit.text
        assert f'data-scene="{second.scene}"' in edit.text
        path = f"/dashboard/channels/{channel_id}/scenes/{second.scene}/reply"
        shown = client.get(path)
        assert shown.status_code == 200
        assert f"渠道 {second.scene}" in shown.text  # the channel's reply, placeholders filled
        csrf = re.search(r'name="csrf" value="([^"]+)"', shown.text)
        assert csrf is not None
        saved = client.post(
            path,
            data={"csrf": csrf[1], "reply_type": "text", "reply_text": "第二张 {scene}"},
        )
        assert saved.status_code == 303
        again = client.get(saved.headers["location"])
        assert f"第二张 {second.scene}" in again.text
        bad = client.post(path, data={"csrf": csrf[1], "reply_type": "image", "media_id": ""})
        assert bad.status_code == 422
        missing = client.get(f"/dashboard/channels/{channel_id}/scenes/nope/reply")
        assert missing.status_code == 404

    # The webhook answers each scene with its reply.
    user_a, user_b = openids(2)
    assert first.ticket is not None
    assert second.ticket is not None
    by_first = stack.emulator.scan(user_a, ticket=first.ticket).pushes[0].reply
    by_second = stack.emulator.scan(user_b, ticket=second.ticket).pushes[0].reply
    assert by_first == TextReply(f"渠道 {first.scene}")
    assert by_second == TextReply(f"第二张 {second.scene}")

    with _browser(stack, "viewer", Role.VIEWER) as viewer:
        page = viewer.get(f"/dashboard/channels/{channel_id}/scenes/{second.scene}/reply")
        assert page.status_code == 200
        assert 'id="save-scene-reply"' not in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        refused = viewer.post(
            f"/dashboard/channels/{channel_id}/scenes/{second.scene}/reply",
            data={"csrf": csrf[1], "action": "clear"},
        )
        assert refused.status_code == 403

    with _browser(stack, "editor2", Role.EDITOR) as client:
        path = f"/dashboard/channels/{channel_id}/scenes/{second.scene}/reply"
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
        assert csrf is not None
        cleared = client.post(path, data={"csrf": csrf[1], "action": "clear"})
        assert cleared.status_code == 303
    replies = {r.scene: r.reply for r in stack.ws.channels.scene_replies(channel_id)}
    assert replies == {first.scene: None, second.scene: None}


def test_the_scope_covers_scene_replies(stack: Stack) -> None:
    with stack.client() as api:
        made = api.post("/api/v1/channels", json={"name": "one", "code": {}})
    channel_id = made.json()["id"]
    code = stack.ws.codes.current_code(channel_id)
    assert code is not None
    viewer = stack.ws.dashboard_users.add("v", PASSWORD, role=Role.VIEWER)
    scoped = stack.ws.scoped(viewer.scope)
    assert [r.scene for r in scoped.channels.scene_replies(channel_id)] == [code.scene]
    with pytest.raises(ForbiddenError):
        scoped.channels.set_scene_reply(channel_id, code.scene, TextReply("x"))
    with pytest.raises(NotFoundError):
        stack.ws.channels.set_scene_reply(channel_id, "not-a-scene", TextReply("x"))
