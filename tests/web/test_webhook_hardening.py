"""Issue 14 through the real webhook: downgrades, poison CreateTime, foreign encodings,
deep nesting and empty scenes get the right answer, and only what was answered 200 is kept."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import pushes as p
from tests.support.db_helpers import count, events
from wxqr.protocol import SUCCESS, EncryptMode, PushQuery, seal_push, signature
from wxqr.store import tables as t

MakeClient = Callable[..., TestClient]


def post(client: TestClient, query: PushQuery, body: bytes) -> tuple[int, str]:
    response = client.post(f"/wechat/{p.APPID}", params=query.to_params(), content=body)
    return response.status_code, response.text


def assert_nothing_stored(engine: Engine) -> None:
    assert count(engine, t.events) == 0
    assert count(engine, t.followers) == 0
    assert count(engine, t.jobs) == 0


@pytest.mark.parametrize("mode", [EncryptMode.COMPATIBLE, EncryptMode.SAFE], ids=str)
def test_a_plaintext_push_to_an_encrypting_account_is_refused(
    make_client: MakeClient, engine: Engine, mode: EncryptMode
) -> None:
    client = make_client(mode)
    plain = p.seal(p.subscribe_scan("o-forged", "1000", int(time.time())), p.keys_for(mode.PLAIN))
    assert post(client, plain.query, plain.body)[0] == 400
    assert_nothing_stored(engine)
    genuine = p.seal(p.subscribe_scan("o-real", "1000", int(time.time())), p.keys_for(mode))
    assert b"<Encrypt>" in genuine.body
    assert post(client, genuine.query, genuine.body) == (200, SUCCESS)
    assert [r["openid"] for r in events(engine)] == ["o-real"]


@pytest.mark.parametrize(
    "create_time",
    ["9223372036854775807", str(10**30), "9" * 4400, "1", str(int(time.time()) + 3 * 86_400)],
    ids=["int64-max", "1e30", "4400-digits", "1970", "3-days-ahead"],
)
def test_a_poison_create_time_is_a_bad_request(
    make_client: MakeClient, engine: Engine, create_time: str
) -> None:
    client = make_client()
    xml = p.subscribe_scan("o-poison", "1000", 0).replace(
        "<CreateTime>0</CreateTime>", f"<CreateTime>{create_time}</CreateTime>"
    )
    sealed = p.seal(xml, p.keys_for(EncryptMode.PLAIN))
    assert post(client, sealed.query, sealed.body)[0] == 400
    assert_nothing_stored(engine)


def test_a_gbk_body_is_a_bad_request(make_client: MakeClient, engine: Engine) -> None:
    client = make_client()
    xml = p.text_message("o-gbk", int(time.time()), "中文")
    body = ('<?xml version="1.0" encoding="GBK"?>' + xml).encode("gbk")
    sealed = p.seal(xml, p.keys_for(EncryptMode.PLAIN))
    assert post(client, sealed.query, body)[0] == 400
    assert_nothing_stored(engine)


def test_deep_nesting_is_a_bad_request(make_client: MakeClient, engine: Engine) -> None:
    client = make_client()
    xml = p.subscribe("o-deep", int(time.time()))
    deep = xml.replace("</xml>", "<a>" * 9000 + "</a>" * 9000 + "</xml>")
    sealed = p.seal(deep, p.keys_for(EncryptMode.PLAIN))
    assert post(client, sealed.query, sealed.body)[0] == 400
    assert_nothing_stored(engine)


@pytest.mark.parametrize("mode", p.MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("event_key", ["", None], ids=["empty", "absent"])
def test_a_scan_with_an_empty_event_key_is_an_orphan_scan(
    make_client: MakeClient, engine: Engine, mode: EncryptMode, event_key: str | None
) -> None:
    client = make_client(mode)
    xml = p.event_xml("SCAN", "o-blank", int(time.time()), event_key)
    sealed = p.seal(xml, p.keys_for(mode))
    assert post(client, sealed.query, sealed.body) == (200, SUCCESS)
    (row,) = events(engine)
    assert (row["kind"], row["scene"], row["channel_id"], row["orphan"]) == (
        "scan",
        "",
        None,
        True,
    )
    # WeChat's retry of the same push is answered again and not stored twice.
    assert post(client, sealed.query, sealed.body) == (200, SUCCESS)
    assert count(engine, t.events) == 1


def test_the_echostr_answer_is_not_sniffed(make_client: MakeClient) -> None:
    client = make_client()
    ts, nonce = str(int(time.time())), "n-1"
    params = {"signature": signature(p.TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    response = client.get(f"/wechat/{p.APPID}", params={**params, "echostr": "<b>hi</b>"})
    assert response.status_code == 200
    assert response.text == "<b>hi</b>"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("text/plain")


def test_seal_push_of_a_compatible_account_carries_both_copies() -> None:
    keys = p.keys_for(EncryptMode.COMPATIBLE)
    sealed = seal_push(p.subscribe("o-c", int(time.time())), keys)
    assert b"<FromUserName>" in sealed.body
    assert b"<Encrypt>" in sealed.body
    assert sealed.query.encrypted
