"""Passive replies per scene: the stored JSON form, templates, and the answer to a push.

A reply is stored as JSON in ``scenes.reply``, ``channels.reply`` or
``accounts.default_subscribe_reply``::

    {"type": "text", "content": "Welcome from {scene}!"}
    {"type": "image", "media_id": "MEDIA_ID"}
    {"type": "news", "articles": [{"title": "…", "description": "…",
                                   "pic_url": "https://…", "url": "https://…"}]}

Text content and article fields may use ``{scene}`` (the scene value, "" for a plain
subscribe) and ``{openid}`` (the follower). Nothing else in braces is interpreted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from wxqr.protocol import (
    SUCCESS,
    AccountKeys,
    Article,
    ImageReply,
    NewsReply,
    Push,
    Reply,
    TextReply,
    render_reply,
    reply_to_json,
    seal_reply,
)
from wxqr.service.errors import InvalidInputError

__all__ = [
    "InvalidReply",
    "Reply",
    "choose_reply",
    "fill_template",
    "parse_reply_spec",
    "render_answer",
    "reply_from_input",
    "reply_spec",
]

MAX_TEXT_LENGTH = 2048


class InvalidReply(InvalidInputError, ValueError):
    """A reply spec that is not one of the three documented shapes."""

    title = "Invalid reply"
    field = "reply"


def _string(obj: Mapping[str, Any], key: str, *, required: bool, limit: int = 2048) -> str:
    value = obj.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidReply(f"reply field {key!r} must be a string")
    if required and not value.strip():
        raise InvalidReply(f"reply field {key!r} must not be empty")
    if len(value) > limit:
        raise InvalidReply(f"reply field {key!r} is longer than {limit} characters")
    return value


def parse_reply_spec(value: object) -> Reply:
    """Validate a stored/submitted reply spec and return the typed reply.

    Raises :class:`InvalidReply` with a message naming what is wrong.
    """
    if not isinstance(value, Mapping):
        raise InvalidReply("a reply must be an object with a 'type'")
    kind = value.get("type")
    if kind == "text":
        return TextReply(_string(value, "content", required=True, limit=MAX_TEXT_LENGTH))
    if kind == "image":
        return ImageReply(_string(value, "media_id", required=True, limit=256))
    if kind == "news":
        raw = value.get("articles")
        if not isinstance(raw, list) or not 1 <= len(raw) <= 8:
            raise InvalidReply("a news reply needs a list of 1..8 articles")
        articles = []
        for item in raw:
            if not isinstance(item, Mapping):
                raise InvalidReply("each article must be an object")
            articles.append(
                Article(
                    title=_string(item, "title", required=True, limit=256),
                    description=_string(item, "description", required=False),
                    pic_url=_string(item, "pic_url", required=False, limit=1024),
                    url=_string(item, "url", required=False, limit=1024),
                )
            )
        return NewsReply(tuple(articles))
    raise InvalidReply("reply type must be 'text', 'image' or 'news'")


def reply_from_input(value: object) -> Reply | None:
    """The reply an adapter was given, the one rule for editing a reply: ``None`` or blank
    text means no reply; a string is a text reply (the CLI's ``--reply-text``, the
    dashboard's field); a mapping is one of the JSON shapes above (the REST API).

    Raises :class:`InvalidReply` (an invalid input, field ``reply``) naming what is wrong.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        value = {"type": "text", "content": text}
    try:
        return parse_reply_spec(value)
    except InvalidReply:
        raise
    except ValueError as exc:  # a protocol constructor refused a field
        raise InvalidReply(str(exc)) from None


def reply_spec(reply: Reply) -> dict[str, Any]:
    """The JSON form of ``reply`` (what the store keeps); inverse of :func:`parse_reply_spec`."""
    return reply_to_json(reply)


def _fill(text: str, scene: str, openid: str) -> str:
    if "{" not in text:
        return text
    return text.replace("{scene}", scene).replace("{openid}", openid)


def fill_template(reply: Reply, *, scene: str, openid: str) -> Reply:
    """Substitute ``{scene}`` and ``{openid}`` in the reply's text fields."""
    if isinstance(reply, TextReply):
        return TextReply(_fill(reply.content, scene, openid))
    if isinstance(reply, ImageReply):
        return reply
    return NewsReply(
        tuple(
            Article(
                title=_fill(a.title, scene, openid),
                description=_fill(a.description, scene, openid),
                pic_url=a.pic_url,
                url=_fill(a.url, scene, openid),
            )
            for a in reply.articles
        )
    )


def choose_reply(
    *,
    kind: str,
    scene_reply: Reply | None,
    channel_reply: Reply | None,
    subscribe_reply: Reply | None,
) -> Reply | None:
    """Which reply answers an event of ``kind`` (None = ``success``).

    Scans (subscribe_scan, scan) take the scene's reply, else its channel's. A follow
    (subscribe_scan without a scene or channel reply, or a plain subscribe) takes the
    account's default subscribe reply. Everything else is answered ``success``.
    """
    if kind in ("subscribe_scan", "scan"):
        chosen = scene_reply or channel_reply
        if chosen is not None:
            return chosen
    if kind in ("subscribe_scan", "subscribe"):
        return subscribe_reply
    return None


def render_answer(
    reply: Reply | None,
    *,
    push: Push,
    scene: str,
    keys: AccountKeys,
    encrypted: bool,
    now: int | None = None,
) -> str:
    """The HTTP body answering ``push``: ``success`` or the rendered (and sealed) reply."""
    if reply is None:
        return SUCCESS
    filled = fill_template(reply, scene=scene, openid=push.from_user)
    created = int(time.time()) if now is None else now
    xml = render_reply(filled, to_user=push.from_user, from_user=push.to_user, create_time=created)
    if not encrypted:
        return xml
    nonce = str(int.from_bytes(os.urandom(4), "big"))
    return seal_reply(xml, keys, timestamp=str(created), nonce=nonce)
