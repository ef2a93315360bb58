"""Fixtures of the WeChat client tests: async backend, token caches on real backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from wxqr.emulator.testing import RunningEmulator, running_emulator
from wxqr.store.db import make_engine
from wxqr.store.tables import access_tokens

from .support import ACCOUNT


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test (or suite sharing the server) uses."""
    return f"wxqr-test:{uuid.uuid4().hex}:"


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    """A fresh emulator hosting the test account (real uvicorn on a loopback port)."""
    with running_emulator(accounts=[ACCOUNT]) as running:
        yield running


@pytest.fixture
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("tokens") / "wxqr.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    access_tokens.metadata.create_all(engine, tables=[access_tokens])
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """A database of its own on the shared server, dropped afterwards."""
    name = f"wxqr_wechat_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    access_tokens.metadata.create_all(engine, tables=[access_tokens])
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
