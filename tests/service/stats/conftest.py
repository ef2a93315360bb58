"""Engines for the service tests: a SQLite file, and a throw-away PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from wxqr.store.db import make_engine
from wxqr.store.tables import metadata


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("stats") / "stats.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A database of its own on the shared server, dropped at the end of the session."""
    name = f"wxqr_stats_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(postgres_url).set(database=name).render_as_string(False))
    try:
        metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each test using it runs on SQLite, and on PostgreSQL when the server is configured."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(name)
    return found


@pytest.fixture
def db(engine: Engine) -> Engine:
    """``engine`` with the tables the stats read emptied."""
    from ._world import reset

    reset(engine)
    return engine
