from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.channels.stack import Stack, make_workspace, running_stack
from tests.store.databases import database_url, engine, pg_session_url, sqlite_template
from wxqr.emulator.testing import RunningEmulator, running_emulator
from wxqr.service.accounts import Account
from wxqr.service.workspace import Workspace

__all__ = ["database_url", "emulator", "engine", "pg_session_url", "sqlite_template", "stack", "ws"]


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def ws(engine: Engine, database_url: str, emulator: RunningEmulator) -> tuple[Workspace, Account]:
    return make_workspace(engine, database_url, emulator)


@pytest.fixture
def stack(engine: Engine, database_url: str, emulator: RunningEmulator) -> Iterator[Stack]:
    with running_stack(engine, database_url, emulator) as running:
        yield running
