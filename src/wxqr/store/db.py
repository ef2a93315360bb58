"""Engines: SQLite by default (WAL, busy timeout, foreign keys on), PostgreSQL in production."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = [
    "DEFAULT_DATABASE_URL",
    "database_url_from_env",
    "is_memory_database",
    "make_engine",
    "normalize_url",
]

DEFAULT_DATABASE_URL = "sqlite:///wxqr.sqlite3"


def normalize_url(url: str) -> str:
    """Map plain ``postgres://`` / ``postgresql://`` URLs to the psycopg 3 driver."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_memory_database(url: str) -> bool:
    """True for an in-memory SQLite database (one process only: no writer process)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database in ("", ":memory:") or parsed.query.get("mode") == "memory"


def database_url_from_env() -> str:
    return normalize_url(os.environ.get("WXQR_DATABASE_URL", DEFAULT_DATABASE_URL))


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` (default: ``WXQR_DATABASE_URL`` or a local SQLite file)."""
    resolved = normalize_url(url) if url else database_url_from_env()
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 5})
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **kwargs)
