"""Engines tuned for one job: the ingest writer's (durable group commit)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, make_url

from .db import make_engine, normalize_url

__all__ = ["make_writer_engine"]


def make_writer_engine(url: str, *, synchronous: str = "FULL", **kwargs: Any) -> Engine:
    """An engine for the group-commit writer.

    On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (it takes the write lock
    first, so a read-then-write batch never fails with a busy snapshot when another
    process writes) and ``synchronous`` is ``FULL`` by default, so a committed batch
    survives a power cut as well as a crash. On PostgreSQL the pool does not ping before
    each batch (a round trip per commit): a dropped connection fails the batch's first
    statement, and the recorder retries it on a new connection before the deadline.
    """
    resolved = normalize_url(url)
    if make_url(resolved).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", 2)
        kwargs.setdefault("pool_pre_ping", False)
        return make_engine(resolved, **kwargs)
    mode = synchronous.upper()
    if mode not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"unknown SQLite synchronous mode {synchronous!r}")
    engine = make_engine(resolved, **kwargs)

    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={mode}")
        cursor.close()

    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine
