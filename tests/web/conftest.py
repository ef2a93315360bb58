from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.store.databases import database_url, engine, pg_session_url, sqlite_template
from tests.web.pushes import AES_KEY, APPID, TOKEN
from wxqr.protocol import EncryptMode
from wxqr.service.accounts import add_account
from wxqr.settings import Settings
from wxqr.web.app import create_app

__all__ = ["database_url", "engine", "make_client", "pg_session_url", "sqlite_template"]


@pytest.fixture
def make_client(database_url: str, engine: Engine) -> Iterator[Callable[..., TestClient]]:
    """Build the app on the test database with one account in ``mode``; returns a client."""
    stack: list[TestClient] = []

    def build(mode: EncryptMode = EncryptMode.PLAIN, **overrides: object) -> TestClient:
        add_account(
            engine,
            appid=APPID,
            token=TOKEN,
            aes_key=None if mode is EncryptMode.PLAIN else AES_KEY,
            encrypt_mode=mode,
        )
        fields: dict[str, object] = {"database_url": database_url, "worker_enabled": False}
        fields.update(overrides)
        app = create_app(Settings(**fields))  # type: ignore[arg-type]
        client = TestClient(app)
        client.__enter__()
        stack.append(client)
        return client

    yield build
    for client in stack:
        client.__exit__(None, None, None)
