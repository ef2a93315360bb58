from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.conftest import emulator
from tests.store.databases import database_url, engine, pg_session_url, sqlite_template
from tests.webhooks.receiver import Receiver, running_receiver

__all__ = [
    "database_url",
    "emulator",
    "engine",
    "pg_session_url",
    "receiver",
    "sqlite_template",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(Receiver()) as running:
        yield running
