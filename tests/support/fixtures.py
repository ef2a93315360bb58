"""Fixtures of a wxqr stack: the emulated WeChat, a workspace, a running server, and
``make_client`` (the app in-process behind a TestClient, one account)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.pushes import AES_KEY, APPID, TOKEN
from tests.support.stack import Stack, make_workspace, running_stack
from tests.support.webhook_receiver import Receiver, running_receiver
from wxqr.emulator.testing import RunningEmulator, running_emulator
from wxqr.protocol import EncryptMode
from wxqr.service.accounts import Account, add_account
from wxqr.service.workspace import Workspace
from wxqr.settings import Settings
from wxqr.web.app import create_app


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A business system's endpoint for outbound webhooks: an HTTP server on loopback."""
    with running_receiver(Receiver()) as running:
        yield running
