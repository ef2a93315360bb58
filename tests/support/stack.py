"""A wxqr stack for tests: migrated database, an emulated WeChat, the server, an API key.

Used by tests/service, tests/web, tests/cli and tests/e2e (its fixtures:
tests/support/fixtures.py). The emulator is a real uvicorn server (one per test
session); the wxqr app is served by uvicorn on a loopback port per test, so the
emulator's pushes reach its webhook over real HTTP.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine

from wxqr.emulator.testing import RunningEmulator, serve_app
from wxqr.runtime import Runtime
from wxqr.service.accounts import Account, add_account, get_account
from wxqr.service.workspace import Workspace
from wxqr.settings import Settings
from wxqr.web.app import create_app

__all__ = [
    "APPID",
    "SECRET",
    "TOKEN",
    "Stack",
    "make_workspace",
    "openids",
    "running_stack",
    "sqlite_copy",
]

# The emulator's default account (wxqr.emulator.testing.EmulatorAccount()).
APPID = "wxemulator00000001"
SECRET = "emulator-secret"
TOKEN = "emulator-token"


def openids(count: int) -> list[str]:
    """Fresh user ids: the emulator keeps its users across tests."""
    run = uuid.uuid4().hex[:8]
    return [f"o-{run}-{n}" for n in range(count)]


def make_settings(database_url: str, emulator: RunningEmulator) -> Settings:
    return Settings(
        database_url=database_url,
        wechat_api_base=emulator.base_url,
        wechat_mp_base=emulator.base_url,
        push_max_age_seconds=0,
        worker_enabled=False,
        # Outbound webhooks to loopback receivers (tests never send elsewhere).
        webhook_allow_http=True,
        webhook_allow_private=True,
    )


def make_workspace(
    engine: Engine, database_url: str, emulator: RunningEmulator, **kwargs: object
) -> tuple[Workspace, Account]:
    account = get_account(engine, APPID) or add_account(
        engine, appid=APPID, token=TOKEN, app_secret=SECRET
    )
    settings = make_settings(database_url, emulator)
    # A runtime on a given engine that does not serve holds nothing to close.
    runtime = Runtime.open(settings, engine=engine, **kwargs)  # type: ignore[arg-type]
    return runtime.workspace, account


@dataclass
class Stack:
    ws: Workspace
    account: Account
    emulator: RunningEmulator
    base_url: str
    api_key: str

    def client(self, key: str | None = "default") -> httpx.Client:
        headers = {} if key is None else {"X-API-Key": self.api_key if key == "default" else key}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@contextmanager
def running_stack(engine: Engine, database_url: str, emulator: RunningEmulator) -> Iterator[Stack]:
    account = get_account(engine, APPID) or add_account(
        engine, appid=APPID, token=TOKEN, app_secret=SECRET
    )
    settings = make_settings(database_url, emulator)
    # The test's workspace is the served app's own (one runtime, as in `wxqr serve`).
    with Runtime.open(settings, engine=engine, serve=True) as runtime:
        ws = runtime.workspace
        key = ws.api_keys.create(f"test-{uuid.uuid4().hex[:6]}").secret
        with serve_app(create_app(runtime)) as base_url:
            emulator.set_push_url(APPID, f"{base_url}/wechat/{APPID}")
            try:
                yield Stack(ws, account, emulator, base_url, key)
            finally:
                emulator.set_push_url(APPID, None)


def sqlite_copy(template: Path, folder: Path) -> str:
    """A fresh migrated SQLite database (a copy of the session's template)."""
    path = folder / "wxqr.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"
