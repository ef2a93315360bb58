"""Issue 14, item 3: a captured signed query cannot carry another body.

WeChat's ``signature`` covers token, timestamp and nonce, not the body: before the
replay guard one captured query was accepted with five different bodies (five fake
followers). Now the first body recorded under a signed query is the push; the same
plaintext again is WeChat's retry (stored once), anything else is 403 and stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import pushes as p
from tests.support.db_helpers import account_id, count, events
from wxqr.protocol import EncryptMode, PushQuery, open_push, seal_push
from wxqr.service.ingest import (
    IncomingPush,
    JobPolicy,
    Recorded,
    ReplayedSignature,
    incoming_push,
    record_pushes,
    signature_fingerprint,
)
from wxqr.service.ingest._catalog import SceneCatalog
from wxqr.service.ingest._recording import record_batch
from wxqr.store import tables as t

MakeClient = Callable[..., TestClient]


def post(client: TestClient, query: PushQuery, body: bytes) -> int:
    response = client.post(f"/wechat/{p.APPID}", params=query.to_params(), content=body)
    return response.status_code


def test_a_captured_plain_query_stores_only_its_own_body(
    make_client: MakeClient, engine: Engine
) -> None:
    client = make_client()
    now = int(time.time())
    genuine = p.seal(p.subscribe("o-real", now), p.keys_for(EncryptMode.PLAIN), timestamp=now)
    assert post(client, genuine.query, genuine.body) == 200
    for n in range(5):
        forged = p.subscribe(f"o-fake-{n}", now).encode()
        assert post(client, genuine.query, forged) == 403
    assert post(client, genuine.query, genuine.body) == 200  # WeChat's retry
    assert [r["openid"] for r in events(engine)] == ["o-real"]
    assert count(engine, t.followers) == 1


def test_a_forgery_arriving_first_leaves_the_genuine_push_refused_not_doubled(
    make_client: MakeClient, engine: Engine
) -> None:
    """Whichever body is recorded first under a query owns it; the store holds one."""
    client = make_client()
    now = int(time.time())
    sealed = p.seal(p.scan("o-a", "100", now), p.keys_for(EncryptMode.PLAIN), timestamp=now)
    other = p.scan("o-b", "100", now).encode()
    assert post(client, sealed.query, other) == 200
    assert post(client, sealed.query, sealed.body) == 403
    assert [r["openid"] for r in events(engine)] == ["o-b"]


@pytest.mark.parametrize("mode", [EncryptMode.COMPATIBLE, EncryptMode.SAFE], ids=str)
def test_an_encrypted_retry_with_fresh_ciphertext_is_the_same_push(
    make_client: MakeClient, engine: Engine, mode: EncryptMode
) -> None:
    """The guard compares plaintexts: a retry encrypted again (new random prefix, new
    msg_signature) under the same query is still WeChat's retry."""
    client = make_client(mode)
    now = int(time.time())
    xml = p.subscribe_scan("o-enc", "7", now)
    first = seal_push(xml, p.keys_for(mode), timestamp=now, nonce="n-42")
    again = seal_push(xml, p.keys_for(mode), timestamp=now, nonce="n-42")
    assert first.body != again.body
    assert first.query.signature == again.query.signature
    assert post(client, first.query, first.body) == 200
    assert post(client, again.query, again.body) == 200
    assert [r["openid"] for r in events(engine)] == ["o-enc"]


def test_different_bodies_under_one_query_in_one_batch(engine: Engine) -> None:
    """Retries and forgeries in flight together: the first body in the batch wins, its
    retry is a no-op, the other body is refused and changes nothing."""
    from wxqr.service.accounts import add_account

    add_account(engine, appid=p.APPID, token=p.TOKEN)
    account = account_id(engine, p.APPID)
    now = int(time.time())
    keys = p.keys_for(EncryptMode.PLAIN)

    def item(openid: str) -> IncomingPush:
        sealed = p.seal(p.subscribe(openid, now), keys, timestamp=now)
        opened = open_push(sealed.body, sealed.query, keys, max_age=0)
        q = PushQuery("sig-captured", str(now), "nonce-1")
        fingerprint = signature_fingerprint(q.timestamp, q.nonce, q.signature, opened.xml)
        return incoming_push(account, opened, received_at=now * 1000, fingerprint=fingerprint)

    genuine, forged = item("o-first"), item("o-second")
    with engine.begin() as conn:
        results = record_batch(conn, [genuine, forged, genuine], SceneCatalog(ttl=0), JobPolicy())
    assert isinstance(results[0], Recorded)
    assert results[0].inserted
    assert isinstance(results[1], ReplayedSignature)
    assert isinstance(results[2], Recorded)
    assert not results[2].inserted
    assert [r["openid"] for r in events(engine)] == ["o-first"]
    assert count(engine, t.followers) == 1
    with pytest.raises(ReplayedSignature):
        record_pushes(engine, [item("o-third")])
    assert count(engine, t.events) == 1
    assert count(engine, t.push_signatures) == 1
