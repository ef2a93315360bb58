"""SQLite only here: the service tests (tests/service) cover PostgreSQL."""

from pathlib import Path

import pytest

from tests.support.stack import sqlite_copy

__all__ = ["database_url"]


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    return sqlite_copy(sqlite_template, tmp_path)
