"""Engines: SQLite by default (WAL, busy timeout, foreign keys on), PostgreSQL in production."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from wxqr._dburl import DEFAULT_DATABASE_URL, normalize_url

__all__ = [
    "DEFAULT_DATABASE_URL",
    "is_memory_database",
    "make_engine",
    "normalize_url",
]


def is_memory_database(url: str) -> bool:
    """True for an in-memory SQLite database (one process only: no writer process)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database in ("", ":memory:") or parsed.query.get("mode") == "memory"


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(
    url: str,
    *,
    connect_timeout: float | None = None,
    statement_timeout: float | None = None,
    **kwargs: Any,
) -> Engine:
    """Create the engine for ``url`` (``Settings.database_url``: the store never reads the
    environment itself).

    PostgreSQL: ``connect_timeout`` (seconds) bounds each new connection and
    ``statement_timeout`` (seconds, 0: none) each statement, so a hung or unreachable
    server fails a request instead of holding it (issue 14). SQLite ignores both (its
    ``busy_timeout`` bounds a lock wait).
    """
    resolved = normalize_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 5})
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    if connect_timeout is not None:
        connect_args.setdefault("connect_timeout", max(1, round(connect_timeout)))
    if statement_timeout is not None:
        milliseconds = int(statement_timeout * 1000)
        options = connect_args.get("options", "")
        connect_args["options"] = f"{options} -c statement_timeout={milliseconds}".strip()
    if connect_args:
        kwargs["connect_args"] = connect_args
    return create_engine(resolved, **kwargs)
