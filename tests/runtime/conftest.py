from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from wxqr.emulator.testing import RunningEmulator, running_emulator

__all__ = ["emulator", "sqlite_url"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database for one test."""
    path = tmp_path / "wxqr.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"
