"""Exactly once under concurrency: two writers (two processes' worth) racing on one store."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Engine, func, select

from tests.support import pushes as p
from wxqr.protocol import EncryptMode, open_push
from wxqr.service.accounts import add_account
from wxqr.service.ingest import IncomingPush, IngestOptions, IngestService, record_pushes
from wxqr.store import tables as t
from wxqr.store.engines import make_writer_engine


def _items(engine: Engine, count: int) -> list[IncomingPush]:
    account = add_account(engine, appid=p.APPID, token=p.TOKEN)
    service = IngestService(engine)
    keys = p.keys_for(EncryptMode.PLAIN)
    now = int(time.time())
    items = []
    for i in range(count):
        xml = p.subscribe_scan(f"o-{i % 50}", str(i % 7), now + i // 50)
        sealed = p.seal(xml, keys)
        opened = open_push(sealed.body, sealed.query, keys)
        known = asyncio.run(service.account(account.appid))
        assert known is not None
        items.append(service.classify(known, opened))
    return items


def test_two_writers_racing_store_each_push_once(engine: Engine) -> None:
    items = _items(engine, 400)
    url = engine.url.render_as_string(hide_password=False)
    services = [
        IngestService(engine, IngestOptions(batch_max=64), writer_engine=make_writer_engine(url))
        for _ in range(2)
    ]

    async def run(service: IngestService) -> list[bool]:
        results = await asyncio.gather(*(service.record(item) for item in items))
        return [r.inserted for r in results]

    async def race() -> list[list[bool]]:
        return await asyncio.gather(*(run(s) for s in services))

    inserted = asyncio.run(race())
    for service in services:
        service.close()
    assert [a or b for a, b in zip(*inserted, strict=True)] == [True] * 400
    assert not any(a and b for a, b in zip(*inserted, strict=True))
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(t.events)).scalar()
        followers = conn.execute(select(func.count()).select_from(t.followers)).scalar()
        keys = conn.execute(select(func.count(t.events.c.dedup_key.distinct()))).scalar()
    assert (stored, keys, followers) == (400, 400, 50)


def test_record_pushes_without_the_writer(engine: Engine) -> None:
    items = _items(engine, 10)
    first = record_pushes(engine, items + items[:3])
    assert [r.inserted for r in first] == [True] * 10 + [False] * 3
    again = record_pushes(engine, items)
    assert not any(r.inserted for r in again)
    assert all(r.orphan for r in again)
