"""SIGTERM while a push is in flight: ``wxqr serve`` stops accepting connections at
once, still answers that push once it is durable (200, stored once), then exits 0."""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.ops.serving import free_port, serve_env, start_serve
from tests.support import pushes as p
from wxqr.store import tables as t
from wxqr.store.db import make_engine

pytestmark = pytest.mark.slow


def hold_events(database_url: str) -> Callable[[], None]:
    """Lock the events table so the writer's commit has to wait (a slow database); returns
    the function that releases it."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(database_url).database or "", timeout=5)
        conn.execute("BEGIN IMMEDIATE")

        def release_sqlite() -> None:
            conn.rollback()
            conn.close()

        return release_sqlite
    engine = create_engine(database_url)
    pg = engine.connect()
    pg.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))

    def release_postgres() -> None:
        pg.rollback()
        pg.close()
        engine.dispose()

    return release_postgres


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return True
    return False


def test_sigterm_finishes_the_push_in_flight_then_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    server = start_serve(serve_env(database_url), port, log=tmp_path / "serve.log")
    sealed = p.seal(p.subscribe("o-in-flight", int(time.time())), p.keys_for(p.MODES[2]))
    answers: list[httpx.Response] = []
    try:
        release = hold_events(database_url)
        try:
            sender = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(
                        f"http://127.0.0.1:{port}/wechat/{p.APPID}",
                        params=sealed.query.to_params(),
                        content=sealed.body,
                        timeout=10,
                    )
                )
            )
            sender.start()
            time.sleep(0.7)  # the push waits for the database
            assert answers == []
            server.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 2
            while not _refused(port):  # it stops accepting at once
                assert time.monotonic() < deadline, "still accepting after SIGTERM"
                time.sleep(0.05)
            assert server.poll() is None  # but waits for the push in flight
        finally:
            release()
        sender.join(10)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    [answer] = answers
    assert (answer.status_code, answer.text) == (200, "success")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.events)).scalar_one() == 1
    finally:
        engine.dispose()
