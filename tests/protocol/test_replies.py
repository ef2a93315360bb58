from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wxqr.protocol import (
    SUCCESS,
    Article,
    ImageReply,
    MalformedPush,
    NewsReply,
    TextReply,
    cdata,
    parse_fields,
    parse_reply,
    render_reply,
    reply_to_json,
)


def test_success_literal() -> None:
    assert SUCCESS == "success"


def test_text_reply_swaps_to_and_from() -> None:
    xml = render_reply(TextReply("hi"), to_user="openid-1", from_user="gh_acc", create_time=7)
    fields = parse_fields(xml)
    assert fields["ToUserName"] == "openid-1"
    assert fields["FromUserName"] == "gh_acc"
    assert fields["CreateTime"] == "7"
    assert fields["MsgType"] == "text"
    assert fields["Content"] == "hi"


def test_cdata_splits_the_terminator() -> None:
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    assert parse_fields(f"<xml><c>{cdata('a]]>b]]>')}</c></xml>")["c"] == "a]]>b]]>"


# XML 1.0 cannot carry most control characters; WeChat content never has them.
xml_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\r"),
    max_size=200,
).map(str.strip)


@given(content=xml_text)
def test_any_text_content_round_trips(content: str) -> None:
    xml = render_reply(TextReply(content), to_user="o", from_user="g", create_time=1)
    assert parse_reply(xml).reply == TextReply(content)


def test_image_reply() -> None:
    xml = render_reply(ImageReply("media-1"), to_user="o", from_user="g", create_time=1)
    assert "<Image><MediaId><![CDATA[media-1]]></MediaId></Image>" in xml
    assert parse_reply(xml).reply == ImageReply("media-1")


def test_news_reply_round_trips() -> None:
    news = NewsReply(
        (
            Article("标题", "desc ]]> x", "http://p/1.jpg", "http://u/1"),
            Article("second"),
        )
    )
    xml = render_reply(news, to_user="o", from_user="g", create_time=1)
    assert "<ArticleCount>2</ArticleCount>" in xml
    assert parse_reply(xml).reply == news


@pytest.mark.parametrize("count", [0, 9])
def test_news_article_count_is_limited(count: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.8 articles"):
        NewsReply(tuple(Article(str(i)) for i in range(count)))


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<xml><ToUserName>o</ToUserName></xml>", "not a passive reply"),
        (
            "<xml><ToUserName>o</ToUserName><FromUserName>g</FromUserName>"
            "<CreateTime>1</CreateTime><MsgType>voice</MsgType></xml>",
            "unsupported reply MsgType",
        ),
        (
            "<xml><ToUserName>o</ToUserName><FromUserName>g</FromUserName>"
            "<CreateTime>1</CreateTime><MsgType>news</MsgType><ArticleCount>3</ArticleCount>"
            "<Articles><item><Title>t</Title></item></Articles></xml>",
            "ArticleCount",
        ),
    ],
)
def test_parse_reply_refuses_non_replies(xml: str, message: str) -> None:
    with pytest.raises(MalformedPush, match=message):
        parse_reply(xml)


def test_json_form_of_each_reply() -> None:
    assert reply_to_json(TextReply("hi")) == {"type": "text", "content": "hi"}
    assert reply_to_json(ImageReply("m")) == {"type": "image", "media_id": "m"}
    assert reply_to_json(NewsReply((Article("t", "d", "p", "u"),))) == {
        "type": "news",
        "articles": [{"title": "t", "description": "d", "pic_url": "p", "url": "u"}],
    }
