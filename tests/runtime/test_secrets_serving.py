"""A served wxqr with WXQR_SECRET_KEY: it works on encrypted secrets end to end, refuses
to start on secrets it cannot read, and warns when it stores them in plaintext."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support import pushes as p
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator
from wxqr.protocol import EncryptMode, QRRequest, seal_push
from wxqr.runtime import Runtime
from wxqr.service.secrets_box import (
    SEALED_PREFIX,
    SecretBox,
    SecretsUnreadable,
    bind_secret_box,
    new_secret_key,
    secret_box,
)
from wxqr.settings import Settings
from wxqr.store import tables as t
from wxqr.store.db import make_engine
from wxqr.web.app import create_app

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CLI = [sys.executable, "-c", "from wxqr.cli.main import main; main()"]


@pytest.fixture
def account(emulator: RunningEmulator) -> EmulatorAccount:
    made = EmulatorAccount(
        appid=f"wx{uuid.uuid4().hex[:16]}",
        secret=f"s-{uuid.uuid4().hex}",
        token=f"tok-{uuid.uuid4().hex[:8]}",
        aes_key=AES_KEY,
        mode=EncryptMode.SAFE,
    )
    emulator.add_account(made)
    return made


def _env(url: str, emulator: RunningEmulator, account: EmulatorAccount) -> dict[str, str]:
    return {
        "WXQR_DATABASE_URL": url,
        "WXQR_APPID": account.appid,
        "WXQR_TOKEN": account.token,
        "WXQR_APP_SECRET": account.secret,
        "WXQR_AES_KEY": AES_KEY,
        "WXQR_ENCRYPT_MODE": "safe",
        "WXQR_WECHAT_API_BASE": emulator.base_url,
        "WXQR_WECHAT_MP_BASE": emulator.base_url,
        "WXQR_INGEST_WRITER": "thread",
        "WXQR_WORKER": "0",
    }


def test_a_served_install_runs_on_encrypted_secrets(
    sqlite_url: str, emulator: RunningEmulator, account: EmulatorAccount
) -> None:
    key = new_secret_key()
    app = create_app(
        Settings.from_env({**_env(sqlite_url, emulator, account), "WXQR_SECRET_KEY": key})
    )
    with TestClient(app) as client:
        runtime: Runtime = app.state.runtime
        stored = runtime.workspace.account(account.appid)
        with runtime.clients.client(stored) as wechat:  # the app secret, decrypted
            assert wechat.create_qrcode(QRRequest.temporary(42, 60)).ticket
        sealed = seal_push(
            p.subscribe_scan("o-secret-1", "42", int(time.time())),
            account.keys,
            timestamp=int(time.time()),
        )
        answer = client.post(
            f"/wechat/{account.appid}", params=sealed.query.to_params(), content=sealed.body
        )
        assert answer.status_code == 200
        with runtime.engine.connect() as conn:
            events = conn.execute(select(func.count()).select_from(t.events)).scalar_one()
            row = conn.execute(select(t.accounts)).mappings().one()
            access = conn.execute(select(t.access_tokens.c.token)).scalar_one()
    assert events == 1
    for column, plain in (
        ("token", account.token),
        ("app_secret", account.secret),
        ("aes_key", AES_KEY),
    ):
        assert row[column].startswith(SEALED_PREFIX)
        assert plain not in row[column]
    assert access is not None
    assert access.startswith(SEALED_PREFIX)
    assert SecretBox([key]).open(row["app_secret"], what="x") == account.secret


def test_serving_refuses_to_start_on_secrets_it_cannot_read(
    sqlite_url: str, emulator: RunningEmulator, account: EmulatorAccount
) -> None:
    env = {**_env(sqlite_url, emulator, account), "WXQR_SECRET_KEY": new_secret_key()}
    with Runtime.open(Settings.from_env(env)):
        pass  # stores the account, encrypted
    wrong = {**env, "WXQR_SECRET_KEY": new_secret_key()}
    wrong.pop("WXQR_APPID")  # nothing to rewrite: the stored account must be read
    with pytest.raises(SecretsUnreadable, match="cannot be decrypted"):
        Runtime.open(Settings.from_env(wrong), serve=True)

    # `wxqr serve`: one line saying what is wrong, exit status 1, no traceback.
    no_key = {k: v for k, v in wrong.items() if k != "WXQR_SECRET_KEY"}
    for broken, workers in ((wrong, "1"), (no_key, "1"), (wrong, "2")):
        process = subprocess.run(
            [*CLI, "serve", "--port", "0", "--workers", workers],
            env={**os.environ, **broken},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert process.returncode == 1, process.stderr
        assert "Traceback" not in process.stderr + process.stdout
        # (the lines before are the migrations' log at serve's INFO level)
        errors = [line for line in process.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1
        assert "WXQR_SECRET_KEY" in errors[0]
        assert account.appid in errors[0]
        assert account.secret not in process.stderr


class _CountingBox(SecretBox):
    """A real box that counts what it decrypts."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(keys)
        self.opened = 0

    def open(self, stored: str, *, what: str) -> str:
        if self.is_sealed(stored):
            self.opened += 1
        return super().open(stored, what=what)


def test_pushes_decrypt_nothing_the_account_cache_holds(
    sqlite_url: str, emulator: RunningEmulator, account: EmulatorAccount
) -> None:
    key = new_secret_key()
    env = {
        **_env(sqlite_url, emulator, account),
        "WXQR_SECRET_KEY": key,
        "WXQR_CACHE_TTL_SECONDS": "300",
    }
    app = create_app(Settings.from_env(env))
    with TestClient(app) as client:
        runtime: Runtime = app.state.runtime
        counting = _CountingBox([key])
        for engine in (runtime.engine, runtime.writer_engine):
            assert engine is not None
            bind_secret_box(engine, counting)

        def push(n: int) -> int:
            now = int(time.time())
            sealed = seal_push(p.scan(f"o-hot-{n}", "7", now), account.keys, timestamp=now)
            return client.post(
                f"/wechat/{account.appid}", params=sealed.query.to_params(), content=sealed.body
            ).status_code

        # Warming up loads the account (again once its original id is learnt).
        assert [push(n) for n in range(3)] == [200] * 3
        warm = counting.opened
        assert 0 < warm <= 6
        assert [push(n) for n in range(3, 40)] == [200] * 37
        assert counting.opened == warm  # no push decrypted anything
        runtime.workspace.account(account.appid)  # a read outside the cache does decrypt
        assert counting.opened == warm + 3


def test_serving_without_a_key_warns_once(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=sqlite_url, ingest_writer="thread", worker_enabled=False)
    with caplog.at_level(logging.WARNING, logger="wxqr.runtime"):
        with Runtime.open(settings, serve=True):
            pass
        with Runtime.open(settings):  # not serving: no warning
            pass
    warnings = [r for r in caplog.records if "WXQR_SECRET_KEY is not set" in r.getMessage()]
    assert len(warnings) == 1
    caplog.clear()
    keyed = Settings(
        database_url=sqlite_url,
        ingest_writer="thread",
        worker_enabled=False,
        secret_keys=(new_secret_key(),),
    )
    with caplog.at_level(logging.WARNING, logger="wxqr.runtime"), Runtime.open(keyed, serve=True):
        pass
    assert not [r for r in caplog.records if "WXQR_SECRET_KEY" in r.getMessage()]


def test_the_runtime_binds_its_box_to_every_engine(sqlite_url: str) -> None:
    key = new_secret_key()
    settings = Settings(database_url=sqlite_url, ingest_writer="thread", secret_keys=(key,))
    engine = make_engine(sqlite_url)
    try:
        with Runtime.open(settings, engine=engine, serve=True) as runtime:
            assert runtime.writer_engine is not None
            assert runtime.worker_engine is not None
            sealed = runtime.secret_box.seal("v")
            for bound in (engine, runtime.writer_engine, runtime.worker_engine):
                assert secret_box(bound) is runtime.secret_box
                assert secret_box(bound).open(sealed, what="v") == "v"
    finally:
        engine.dispose()
