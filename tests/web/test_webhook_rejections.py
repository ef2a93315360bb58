"""Refused pushes: the right status, and nothing stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from tests.support import pushes as p
from tests.support.db_helpers import count, events
from wxqr.protocol import EncryptMode, PushQuery, SealedPush, signature
from wxqr.store import tables as t

MakeClient = Callable[..., TestClient]

XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh_x</ToUserName><FromUserName>&xxe;</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
)
BOMB = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    "<xml><ToUserName>gh_x</ToUserName><FromUserName>&d;</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
)


def signed_query(timestamp: int | None = None) -> PushQuery:
    ts = str(timestamp or int(time.time()))
    return PushQuery(signature(p.TOKEN, ts, "nonce-1"), ts, "nonce-1")


def assert_nothing_stored(engine: Engine) -> None:
    assert count(engine, t.events) == 0
    assert count(engine, t.followers) == 0
    assert count(engine, t.jobs) == 0


def send(client: TestClient, query: PushQuery, body: bytes, appid: str = p.APPID) -> int:
    response = client.post(f"/wechat/{appid}", params=query.to_params(), content=body)
    return int(response.status_code)


@pytest.mark.parametrize("mode", p.MODES, ids=lambda m: m.value)
def test_bad_signature_and_stale_timestamp_are_forbidden(
    make_client: MakeClient, engine: Engine, mode: EncryptMode
) -> None:
    client = make_client(mode)
    keys = p.keys_for(mode)
    xml = p.subscribe("o-x", int(time.time()))
    good = p.seal(xml, keys)
    bad_sig = SealedPush(
        PushQuery(
            "f" * 40,
            good.query.timestamp,
            good.query.nonce,
            good.query.openid,
            good.query.encrypt_type,
            good.query.msg_signature,
        ),
        good.body,
    )
    assert send(client, bad_sig.query, bad_sig.body) == 403
    stale = p.seal(xml, keys, timestamp=int(time.time()) - 601)
    assert send(client, stale.query, stale.body) == 403
    if mode is not EncryptMode.PLAIN:
        tampered = good.body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")
        assert send(client, good.query, tampered) == 403
        without = PushQuery(good.query.signature, good.query.timestamp, good.query.nonce, "", "aes")
        assert send(client, without, good.body) == 403
    assert_nothing_stored(engine)


def test_max_age_zero_turns_the_window_off(make_client: MakeClient, engine: Engine) -> None:
    client = make_client(push_max_age_seconds=0)
    old = int(time.time()) - 86_400
    sealed = p.seal(p.subscribe("o-old", old), p.keys_for(EncryptMode.PLAIN), timestamp=old)
    assert send(client, sealed.query, sealed.body) == 200
    assert len(events(engine)) == 1


@pytest.mark.parametrize("mode", [EncryptMode.COMPATIBLE, EncryptMode.SAFE], ids=str)
def test_ciphertext_for_another_appid_is_a_bad_request(
    make_client: MakeClient, engine: Engine, mode: EncryptMode
) -> None:
    client = make_client(mode)
    other = p.keys_for(mode, appid=p.OTHER_APPID)  # same token and key, other appid
    sealed = p.seal(p.subscribe("o-x", int(time.time())), other)
    assert send(client, sealed.query, sealed.body) == 400
    assert_nothing_stored(engine)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (XXE.encode(), 400),
        (BOMB.encode(), 400),
        (b"", 400),
        (b"this is not xml", 400),
        (b'{"json": true}', 400),
        (b"<notxml><a>1</a></notxml>", 400),
        (b"<xml><ToUserName>gh_x</ToUserName></xml>", 400),
        (b"<xml>" + b"A" * (1024 * 1024) + b"</xml>", 413),
    ],
    ids=["xxe", "entity-bomb", "empty", "non-xml", "json", "wrong-root", "incomplete", "1MiB"],
)
def test_hostile_or_malformed_bodies(
    make_client: MakeClient, engine: Engine, body: bytes, status: int
) -> None:
    client = make_client()
    assert send(client, signed_query(), body) == status
    assert_nothing_stored(engine)


def test_unknown_appid_is_not_found(make_client: MakeClient, engine: Engine) -> None:
    client = make_client()
    sealed = p.seal(p.subscribe("o-x", int(time.time())), p.keys_for(EncryptMode.PLAIN))
    assert send(client, sealed.query, sealed.body, appid=p.OTHER_APPID) == 404
    assert_nothing_stored(engine)


class StoreLock:
    """Holds the events table's write lock from another connection, as a busy database would."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def hold(self) -> None:
        conn = self._engine.connect()
        if self._engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
            conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
        self._conn = conn

    def release(self) -> None:
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()
            self._conn = None


@pytest.fixture
def store_lock(engine: Engine) -> Iterator[StoreLock]:
    lock = StoreLock(engine)
    yield lock
    lock.release()


def test_a_store_too_slow_for_the_deadline_gets_503_then_the_retry_succeeds(
    make_client: MakeClient, engine: Engine, store_lock: StoreLock
) -> None:
    client = make_client(push_deadline_seconds=0.5)
    keys = p.keys_for(EncryptMode.PLAIN)
    xml = p.subscribe("o-slow", int(time.time()))
    store_lock.hold()
    sealed = p.seal(xml, keys)
    assert send(client, sealed.query, sealed.body) == 503
    store_lock.release()
    sealed = p.seal(xml, keys)
    assert send(client, sealed.query, sealed.body) == 200
    assert len(events(engine)) == 1
