"""SQLite only here: the service tests (tests/channels) cover PostgreSQL."""

from pathlib import Path

import pytest

from tests.channels.conftest import emulator, engine, stack, ws
from tests.channels.stack import sqlite_copy
from tests.store.databases import sqlite_template

__all__ = ["database_url", "emulator", "engine", "sqlite_template", "stack", "ws"]


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    return sqlite_copy(sqlite_template, tmp_path)
