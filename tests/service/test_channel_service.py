"""Channels: create, read, change, archive; names unique per account; input checked."""

from __future__ import annotations

import pytest

from wxqr.protocol import NewsReply, TextReply
from wxqr.service.accounts import Account
from wxqr.service.channels import ChannelPatch, ChannelStatus, NewChannel, parse_reply
from wxqr.service.codes import CodeSpec
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]


def test_create_read_change_archive(ws: WS) -> None:
    workspace, account = ws
    channels = workspace.channels
    created = channels.create(
        account.id,
        NewChannel(
            name="  Poster A ",
            group="posters",
            tags=("spring", "print", "spring"),
            payload={"order": 10086, "items": ["a", "b"]},
            reply=TextReply("Hi from {scene}"),
            follower_tags=("vip",),
        ),
    )
    assert created.name == "Poster A"
    assert created.tags == ("spring", "print")
    assert created.payload == {"order": 10086, "items": ["a", "b"]}
    assert created.reply == TextReply("Hi from {scene}")
    assert created.status is ChannelStatus.ACTIVE
    assert channels.get(created.id) == created
    assert channels.find(account.id, "Poster A") == created
    assert channels.find(account.id, str(created.id)) == created

    changed = channels.update(
        created.id, ChannelPatch(group=None, reply=None, tags=("x",), name="Poster B")
    )
    assert (changed.name, changed.group, changed.reply, changed.tags) == (
        "Poster B",
        None,
        None,
        ("x",),
    )
    assert changed.payload == created.payload  # untouched fields stay

    archived = channels.archive(created.id)
    assert archived.archived
    assert channels.list_channels(account.id, status=ChannelStatus.ACTIVE) == []
    assert [c.id for c in channels.list_channels(account.id)] == [created.id]
    assert channels.restore(created.id).status is ChannelStatus.ACTIVE


def test_names_are_unique_per_account(ws: WS) -> None:
    workspace, account = ws
    first = workspace.channels.create(account.id, NewChannel(name="Shop 1"))
    with pytest.raises(ConflictError, match="already exists"):
        workspace.channels.create(account.id, NewChannel(name="Shop 1"))
    second = workspace.channels.create(account.id, NewChannel(name="Shop 2"))
    with pytest.raises(ConflictError):
        workspace.channels.update(second.id, ChannelPatch(name="Shop 1"))
    assert workspace.channels.get(first.id).name == "Shop 1"


def test_filters(ws: WS) -> None:
    workspace, account = ws
    channels = workspace.channels
    a = channels.create(account.id, NewChannel(name="a", group="g1", tags=("t",)))
    b = channels.create(account.id, NewChannel(name="b", group="g2"))
    c = channels.create(account.id, NewChannel(name="c", group="g1"))
    assert [x.id for x in channels.list_channels(account.id, group="g1")] == [a.id, c.id]
    assert [x.id for x in channels.list_channels(account.id, tag="t")] == [a.id]
    assert [x.id for x in channels.list_channels(account.id, limit=1, offset=1)] == [b.id]
    assert channels.groups(account.id) == ["g1", "g2"]
    assert channels.count(account.id) == 3


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (NewChannel(name="   "), "name"),
        (NewChannel(name="x" * 201), "name"),
        (NewChannel(name="ok", tags=("t" * 65,)), "tags"),
        (NewChannel(name="ok", payload={"bad": float("nan")}), "payload"),
        (NewChannel(name="ok", payload="x" * 20_000), "payload"),
    ],
)
def test_bad_input_is_refused(ws: WS, spec: NewChannel, field: str) -> None:
    workspace, account = ws
    with pytest.raises(InvalidInputError) as caught:
        workspace.channels.create(account.id, spec)
    assert caught.value.field == field
    assert workspace.channels.count(account.id) == 0


def test_replies_use_the_webhook_shapes() -> None:
    news = parse_reply({"type": "news", "articles": [{"title": "T", "url": "https://x.test/"}]})
    assert isinstance(news, NewsReply)
    assert parse_reply(None) is None
    for bad in ({"type": "video"}, {"type": "text"}, "hello", {"type": "news", "articles": []}):
        with pytest.raises(InvalidInputError):
            parse_reply(bad)


def test_unknown_ids(ws: WS) -> None:
    workspace, account = ws
    with pytest.raises(NotFoundError):
        workspace.channels.get(999)
    with pytest.raises(NotFoundError):
        workspace.channels.find(account.id, "nope")
    with pytest.raises(NotFoundError):
        workspace.channels.create(account.id + 100, NewChannel(name="x"))


def test_discard_unused_keeps_channels_with_codes(ws: WS) -> None:
    workspace, account = ws
    empty = workspace.channels.create(account.id, NewChannel(name="empty"))
    used = workspace.channels.create(account.id, NewChannel(name="used"))
    workspace.codes.issue(used.id, CodeSpec())
    assert workspace.channels.discard_unused(empty.id) is True
    assert workspace.channels.discard_unused(used.id) is False
    assert [c.name for c in workspace.channels.list_channels(account.id)] == ["used"]
