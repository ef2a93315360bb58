"""The composition root: one WeChat client factory configured by the settings, shared by
the served app, its worker and the CLI; the layering of settings and the WeChat client."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from wxqr.emulator.testing import EmulatorAccount, RunningEmulator
from wxqr.protocol import QRRequest
from wxqr.runtime import Runtime
from wxqr.service.accounts import Account
from wxqr.settings import Settings
from wxqr.store import tables as t
from wxqr.web.app import create_app
from wxqr.wechat import TokenSource


@pytest.fixture
def account(emulator: RunningEmulator) -> EmulatorAccount:
    """An emulator account of this test alone (tokens in Redis are keyed by appid)."""
    made = EmulatorAccount(appid=f"wx{uuid.uuid4().hex[:16]}", secret=f"s-{uuid.uuid4().hex}")
    emulator.add_account(made)
    return made


def _env(sqlite_url: str, emulator: RunningEmulator, account: EmulatorAccount) -> dict[str, str]:
    return {
        "WXQR_DATABASE_URL": sqlite_url,
        "WXQR_APPID": account.appid,
        "WXQR_TOKEN": account.token,
        "WXQR_APP_SECRET": account.secret,
        "WXQR_WECHAT_API_BASE": emulator.base_url,
        "WXQR_WECHAT_MP_BASE": emulator.base_url,
        "WXQR_INGEST_WRITER": "thread",
    }


def _issue(runtime: Runtime, appid: str) -> None:
    stored: Account = runtime.workspace.account(appid)
    with runtime.clients.client(stored) as client:
        assert client.create_qrcode(QRRequest.temporary(42, 60)).ticket


def test_token_source_and_timeout_reach_the_served_apps_clients(
    sqlite_url: str, emulator: RunningEmulator, account: EmulatorAccount
) -> None:
    env = {
        **_env(sqlite_url, emulator, account),
        "WXQR_WECHAT_TOKEN_SOURCE": "classic",
        "WXQR_WECHAT_TIMEOUT": "3",
    }
    app = create_app(Settings.from_env(env))  # what `wxqr serve` builds
    with TestClient(app):
        runtime: Runtime = app.state.runtime
        stored = runtime.workspace.account(account.appid)
        for clients in (runtime.clients, runtime.workspace.clients):
            config = clients.config(stored)
            assert config.token_source is TokenSource.CLASSIC
            assert config.timeout == 3.0
        assert runtime.workspace.clients is runtime.clients  # one factory
        classic = emulator.calls("/cgi-bin/token")
        stable = emulator.calls("/cgi-bin/stable_token")
        _issue(runtime, account.appid)
        assert emulator.calls("/cgi-bin/token") == classic + 1
        assert emulator.calls("/cgi-bin/stable_token") == stable
        # The worker's clients come from the same factory.
        assert runtime.worker is not None
        worker_client = runtime.clients.job_client(stored)
        with worker_client:
            assert worker_client.config.token_source is TokenSource.CLASSIC


def test_the_database_token_cache_without_redis(
    sqlite_url: str, emulator: RunningEmulator, account: EmulatorAccount
) -> None:
    with Runtime.open(Settings.from_env(_env(sqlite_url, emulator, account))) as runtime:
        assert runtime.clients.token_cache_kind == "database"
        _issue(runtime, account.appid)
        with runtime.engine.connect() as conn:
            token = conn.execute(
                select(t.access_tokens.c.token).where(t.access_tokens.c.appid == account.appid)
            ).scalar_one()
        assert token  # shared through the access_tokens table
        fetched = emulator.calls("/cgi-bin/stable_token")
        _issue(runtime, account.appid)  # a new client, the same token
        assert emulator.calls("/cgi-bin/stable_token") == fetched


def test_the_redis_token_cache_with_redis_url(
    sqlite_url: str, emulator: RunningEmulator, account: EmulatorAccount
) -> None:
    redis_url = os.environ.get("WXQR_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("WXQR_TEST_REDIS_URL is not set")
    env = {**_env(sqlite_url, emulator, account), "WXQR_REDIS_URL": redis_url}
    key = f"wxqr:token:{account.appid}"
    try:
        with Runtime.open(Settings.from_env(env), serve=True) as runtime:
            assert runtime.clients.token_cache_kind == "redis"
            _issue(runtime, account.appid)
            with runtime.engine.connect() as conn:
                rows = conn.execute(
                    select(t.access_tokens).where(t.access_tokens.c.appid == account.appid)
                ).all()
            assert rows == []  # not in the database
            assert anyio.run(_redis_has, redis_url, key)
    finally:
        anyio.run(_redis_delete, redis_url, key)


async def _redis_has(url: str, key: str) -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        return bool(await client.hget(key, "value"))
    finally:
        await client.aclose()


async def _redis_delete(url: str, key: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.delete(key, f"{key}:lock", f"{key}:fence")
    finally:
        await client.aclose()


def test_closing_the_runtime_leaves_a_given_engine_open(sqlite_url: str) -> None:
    from wxqr.store.db import make_engine

    engine = make_engine(sqlite_url)
    settings = Settings(database_url=sqlite_url, ingest_writer="thread")
    with Runtime.open(settings, engine=engine, serve=True) as runtime:
        assert runtime.engine is engine
        assert runtime.writer_engine is not None
        assert runtime.worker_engine is not None
    with engine.connect() as conn:  # still usable
        assert conn.execute(select(t.accounts.c.id)).all() == []
    engine.dispose()


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("wxqr.wechat", ("wxqr.store", "wxqr.service", "wxqr.settings", "sqlalchemy")),
        ("wxqr.settings", ("wxqr.store", "wxqr.service", "wxqr.wechat", "sqlalchemy")),
    ],
)
def test_layering(module: str, forbidden: tuple[str, ...]) -> None:
    """The WeChat client knows no storage; the settings import neither store nor client."""
    code = (
        f"import sys, {module}\n"
        f"bad = sorted(m for m in sys.modules if any("
        f"m == f or m.startswith(f + '.') for f in {forbidden!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
