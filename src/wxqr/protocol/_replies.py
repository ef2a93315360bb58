"""Passive replies: ``success``, text, image and news, rendered as WeChat expects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import MalformedPush
from ._xml import DEFAULT_MAX_BYTES, parse_fields

__all__ = [
    "SUCCESS",
    "Article",
    "ImageReply",
    "NewsReply",
    "ParsedReply",
    "Reply",
    "TextReply",
    "cdata",
    "parse_reply",
    "render_reply",
    "reply_to_json",
]

SUCCESS = "success"
MAX_ARTICLES = 8


def cdata(text: str) -> str:
    """Wrap ``text`` in CDATA, splitting any ``]]>`` it contains so it survives intact."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True, slots=True)
class TextReply:
    content: str


@dataclass(frozen=True, slots=True)
class ImageReply:
    media_id: str


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    description: str = ""
    pic_url: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class NewsReply:
    articles: tuple[Article, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.articles) <= MAX_ARTICLES:
            raise ValueError(f"a news reply holds 1..{MAX_ARTICLES} articles")


Reply = TextReply | ImageReply | NewsReply


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """The JSON form of a reply: ``{"type": "text", "content": …}``,
    ``{"type": "image", "media_id": …}`` or ``{"type": "news", "articles": [{"title",
    "description", "pic_url", "url"}, …]}`` — what the store keeps and APIs show."""
    if isinstance(reply, TextReply):
        return {"type": "text", "content": reply.content}
    if isinstance(reply, ImageReply):
        return {"type": "image", "media_id": reply.media_id}
    return {
        "type": "news",
        "articles": [
            {"title": a.title, "description": a.description, "pic_url": a.pic_url, "url": a.url}
            for a in reply.articles
        ],
    }


def _body(reply: Reply) -> tuple[str, str]:
    if isinstance(reply, TextReply):
        return "text", f"<Content>{cdata(reply.content)}</Content>"
    if isinstance(reply, ImageReply):
        return "image", f"<Image><MediaId>{cdata(reply.media_id)}</MediaId></Image>"
    items = "".join(
        "<item>"
        f"<Title>{cdata(a.title)}</Title>"
        f"<Description>{cdata(a.description)}</Description>"
        f"<PicUrl>{cdata(a.pic_url)}</PicUrl>"
        f"<Url>{cdata(a.url)}</Url>"
        "</item>"
        for a in reply.articles
    )
    return "news", f"<ArticleCount>{len(reply.articles)}</ArticleCount><Articles>{items}</Articles>"


def render_reply(reply: Reply, *, to_user: str, from_user: str, create_time: int) -> str:
    """Render the reply XML. For a reply to a push, ``to_user`` is the push's FromUserName
    (the follower) and ``from_user`` the push's ToUserName (the account)."""
    msg_type, body = _body(reply)
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata(msg_type)}</MsgType>"
        f"{body}"
        "</xml>"
    )


@dataclass(frozen=True, slots=True)
class ParsedReply:
    """A reply document read back (what the user would see)."""

    to_user: str
    from_user: str
    create_time: int
    reply: Reply


def _articles(fields: Mapping[str, str]) -> Sequence[Article]:
    articles: list[Article] = []
    index = 0
    while True:
        prefix = "Articles.item." if index == 0 else f"Articles.item[{index}]."
        if prefix + "Title" not in fields:
            return articles
        articles.append(
            Article(
                title=fields[prefix + "Title"],
                description=fields.get(prefix + "Description", ""),
                pic_url=fields.get(prefix + "PicUrl", ""),
                url=fields.get(prefix + "Url", ""),
            )
        )
        index += 1


def parse_reply(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedReply:
    """Parse a plaintext passive reply; raise :class:`MalformedPush` if it is not one."""
    fields = parse_fields(body, max_bytes=max_bytes)
    try:
        to_user, from_user = fields["ToUserName"], fields["FromUserName"]
        create_time = int(fields["CreateTime"])
        msg_type = fields["MsgType"]
    except (KeyError, ValueError) as exc:
        raise MalformedPush(f"not a passive reply: {exc}") from None
    reply: Reply
    if msg_type == "text":
        reply = TextReply(fields.get("Content", ""))
    elif msg_type == "image" and fields.get("Image.MediaId"):
        reply = ImageReply(fields["Image.MediaId"])
    elif msg_type == "news":
        articles = tuple(_articles(fields))
        if not articles or str(len(articles)) != fields.get("ArticleCount"):
            raise MalformedPush("news reply with a wrong ArticleCount")
        reply = NewsReply(articles)
    else:
        raise MalformedPush(f"unsupported reply MsgType {msg_type!r}")
    return ParsedReply(to_user, from_user, create_time, reply)
