"""The two group-commit writers (child process, thread) and the child's life and death."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.support import pushes as p
from tests.support.db_helpers import add_channel, add_scene, events
from wxqr.protocol import AccountKeys, PushQuery, open_push
from wxqr.service.accounts import add_account
from wxqr.service.ingest import (
    IncomingPush,
    IngestUnavailable,
    Recorded,
    WriterConfig,
    incoming_push,
)
from wxqr.service.ingest._process import PRUNE_AT, ProcessWriter
from wxqr.service.ingest._writer import Pending

MakeClient = Callable[..., TestClient]


def _send(client: TestClient, xml: str) -> int:
    sealed = p.seal(xml, p.keys_for(p.MODES[0]))
    response = client.post(
        f"/wechat/{p.APPID}", params=sealed.query.to_params(), content=sealed.body
    )
    return response.status_code


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_both_writers_record_each_push_once_and_answer_per_scene(
    make_client: MakeClient, engine: Engine, writer: str
) -> None:
    client = make_client(ingest_writer=writer)
    channel = add_channel(engine, p.APPID, "poster", reply={"type": "text", "content": "hi"})
    add_scene(engine, p.APPID, "7", channel_id=channel)
    now = int(time.time())
    keys = p.keys_for(p.MODES[0])
    first = p.seal(p.subscribe_scan("o-1", "7", now), keys)
    for _ in range(2):  # WeChat's retry of the same push
        answer = client.post(
            f"/wechat/{p.APPID}", params=first.query.to_params(), content=first.body
        )
        assert answer.status_code == 200
        assert "<![CDATA[hi]]>" in answer.text
    assert _send(client, p.scan("o-2", "7", now)) == 200
    assert _send(client, p.scan("o-3", "nobody-knows", now)) == 200
    rows = events(engine)
    assert [(r["openid"], r["kind"], r["orphan"]) for r in rows] == [
        ("o-1", "subscribe_scan", False),
        ("o-2", "scan", False),
        ("o-3", "scan", True),
    ]
    writer_obj = client.app.state.ingest.writer  # type: ignore[attr-defined]
    assert isinstance(writer_obj, ProcessWriter) is (writer == "process")


def test_the_writer_process_is_restarted_after_it_dies(
    make_client: MakeClient, engine: Engine
) -> None:
    client = make_client()
    writer = client.app.state.ingest.writer  # type: ignore[attr-defined]
    assert isinstance(writer, ProcessWriter)
    now = int(time.time())
    assert _send(client, p.subscribe("o-before", now)) == 200
    old_pid = writer.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    # Until the new child is up a push may be refused with 503 (WeChat retries); it is
    # never answered 200 without being stored.
    statuses = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        statuses.append(_send(client, p.subscribe("o-after", now)))
        if statuses[-1] == 200:
            break
        time.sleep(0.1)
    assert statuses[-1] == 200, statuses
    assert set(statuses) <= {200, 503}
    assert writer.restarts == 1
    assert writer.pid != old_pid
    assert [r["openid"] for r in events(engine)] == ["o-before", "o-after"]


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_dropped_database_connection_is_replaced_without_losing_the_push(
    make_client: MakeClient, engine: Engine
) -> None:
    """The writer's engine does not ping before every batch (a round trip per commit): a
    connection the server dropped fails the first statement, and the batch is retried
    on a new connection within the push's deadline (PostgreSQL: a server that drops)."""
    client = make_client()
    now = int(time.time())
    assert _send(client, p.subscribe("o-before", now)) == 200
    with engine.connect() as conn:
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert dropped >= 1  # every connection of the app and of its writer process
    assert _send(client, p.subscribe("o-after", now)) == 200
    assert [r["openid"] for r in events(engine)] == ["o-before", "o-after"]


def test_closing_writes_what_is_queued_then_stops_the_child(
    database_url: str, engine: Engine
) -> None:
    account = add_account(engine, appid=p.APPID, token=p.TOKEN)
    keys = AccountKeys(p.APPID, p.TOKEN)
    now = int(time.time())

    async def scenario() -> list[Recorded]:
        writer = ProcessWriter(WriterConfig(database_url))
        writer.start()
        loop = asyncio.get_running_loop()
        futures = []
        for n in range(50):
            sealed = p.seal(p.subscribe(f"o-{n}", now), keys)
            opened = open_push(sealed.body, sealed.query, keys, max_age=0)
            item = incoming_push(account.id, opened, received_at=int(time.time() * 1000))
            future: asyncio.Future[Recorded] = loop.create_future()
            writer.submit(Pending(item, time.monotonic() + 10, loop, future))
            futures.append(future)
        pid = writer.pid
        await writer.aclose()
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the child has exited (and was reaped)
        with pytest.raises(IngestUnavailable):
            writer.submit(Pending(item, time.monotonic() + 10, loop, loop.create_future()))
        return [await f for f in futures]

    results = asyncio.run(scenario())
    assert all(r.inserted for r in results)
    assert len(events(engine)) == 50


def test_a_push_past_its_deadline_is_not_written(database_url: str, engine: Engine) -> None:
    account = add_account(engine, appid=p.APPID, token=p.TOKEN)
    keys = AccountKeys(p.APPID, p.TOKEN)
    sealed = p.seal(p.subscribe("o-late", int(time.time())), keys)
    query = PushQuery.from_params(sealed.query.to_params())
    item = incoming_push(account.id, open_push(sealed.body, query, keys, max_age=0), received_at=1)

    async def scenario() -> BaseException | Recorded:
        writer = ProcessWriter(WriterConfig(database_url))
        writer.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        writer.submit(Pending(item, time.monotonic() - 1, loop, future))
        try:
            return await asyncio.wait_for(future, 10)
        except IngestUnavailable as exc:
            return exc
        finally:
            await writer.aclose()

    outcome = asyncio.run(scenario())
    assert isinstance(outcome, IngestUnavailable)
    assert events(engine) == []


def test_a_writer_that_cannot_start_says_so() -> None:
    writer = ProcessWriter(WriterConfig("nosuchdialect://nowhere"))
    with pytest.raises(RuntimeError, match="did not start"):
        writer.start()
    writer.close()


def test_the_config_repr_hides_the_database_url() -> None:
    config = WriterConfig("postgresql+psycopg://wxqr:s3cret@db/wxqr")
    assert "s3cret" not in repr(config)
    assert "db/wxqr" not in repr(config)


def test_submit_from_another_loop_is_refused(database_url: str, engine: Engine) -> None:
    account = add_account(engine, appid=p.APPID, token=p.TOKEN)
    keys = AccountKeys(p.APPID, p.TOKEN)
    sealed = p.seal(p.subscribe("o-x", int(time.time())), keys)
    item = incoming_push(
        account.id, open_push(sealed.body, sealed.query, keys, max_age=0), received_at=1
    )
    writer = ProcessWriter(WriterConfig(database_url))

    async def first() -> Recorded:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        writer.submit(Pending(item, time.monotonic() + 10, loop, future))
        return await future

    async def second() -> None:
        loop = asyncio.get_running_loop()
        with pytest.raises(IngestUnavailable, match="another event loop"):
            writer.submit(Pending(item, time.monotonic() + 10, loop, loop.create_future()))

    assert asyncio.run(first()).inserted
    asyncio.run(second())
    writer.close()
    assert len(events(engine)) == 1


def test_pushes_given_up_on_while_the_database_is_stuck_are_dropped_from_the_queue(
    database_url: str, engine: Engine
) -> None:
    account = add_account(engine, appid=p.APPID, token=p.TOKEN)
    keys = AccountKeys(p.APPID, p.TOKEN)
    now = int(time.time())

    def item_for(openid: str) -> IncomingPush:
        sealed = p.seal(p.subscribe(openid, now), keys)
        opened = open_push(sealed.body, sealed.query, keys, max_age=0)
        return incoming_push(account.id, opened, received_at=int(time.time() * 1000))

    async def scenario() -> tuple[int, list[Recorded]]:
        writer = ProcessWriter(WriterConfig(database_url))
        writer.start()
        loop = asyncio.get_running_loop()

        def submit(item: IncomingPush) -> asyncio.Future[Recorded]:
            future: asyncio.Future[Recorded] = loop.create_future()
            writer.submit(Pending(item, time.monotonic() + 30, loop, future))
            return future

        pid = writer.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # the database "hangs": nothing is answered
        try:
            live = [submit(item_for(f"o-live-{n}")) for n in range(2)]  # both in flight
            abandoned = item_for("o-abandoned")
            for _ in range(PRUNE_AT + 50):
                submit(abandoned).cancel()  # the handler gave up (its deadline passed)
            waiting_while_stuck = writer.pending
        finally:
            os.kill(pid, signal.SIGCONT)
        live.append(submit(item_for("o-last")))
        results = [await future for future in live]
        await writer.aclose()
        return waiting_while_stuck, results

    waiting_while_stuck, results = asyncio.run(scenario())
    # Without pruning all 10,052 would be held until the database came back. Held: the two
    # in flight, the push being submitted when the queue was pruned, and the 50 after it.
    assert waiting_while_stuck == 2 + 1 + 50
    assert all(r.inserted for r in results)
    assert sorted(r["openid"] for r in events(engine)) == ["o-last", "o-live-0", "o-live-1"]


def test_frames_answered_together_leave_nothing_in_flight(
    database_url: str, engine: Engine
) -> None:
    """The writer process records every frame it has waiting in one transaction and
    answers them with one frame: both count as answered, so the serving process keeps
    sending two frames at a time (it used to think one was still out, for good)."""
    account = add_account(engine, appid=p.APPID, token=p.TOKEN)
    keys = AccountKeys(p.APPID, p.TOKEN)
    now = int(time.time())

    async def scenario() -> tuple[list[int], ProcessWriter]:
        writer = ProcessWriter(WriterConfig(database_url))
        writer.start()
        loop = asyncio.get_running_loop()
        idle_counts = []
        for burst in range(5):
            futures = []
            for n in range(20):  # the first two go out as frames at once, together
                sealed = p.seal(p.subscribe(f"o-{burst}-{n}", now), keys)
                opened = open_push(sealed.body, sealed.query, keys, max_age=0)
                item = incoming_push(account.id, opened, received_at=int(time.time() * 1000))
                future: asyncio.Future[Recorded] = loop.create_future()
                writer.submit(Pending(item, time.monotonic() + 10, loop, future))
                futures.append(future)
            await asyncio.gather(*futures)
            idle_counts.append(writer.frames_in_flight)
        await writer.aclose()
        return idle_counts, writer

    idle_counts, writer = asyncio.run(scenario())
    assert idle_counts == [0] * 5
    assert writer.recorded == 100
    assert len(events(engine)) == 100
