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

from tests.web import pushes as p
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator
from wxqr.protocol import EncryptMode, QRRequest, seal_push
from wxqr.runtime import Runtime
from wxqr.service.secrets_box import (
    SEALED_PREFIX,
    SecretBox,
    SecretsUnreadable,
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
    for broken in (wrong, {k: v for k, v in wrong.items() if k != "WXQR_SECRET_KEY"}):
        process = subprocess.run(
            [*CLI, "serve", "--port", "0"],
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
