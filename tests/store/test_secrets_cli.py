"""Secrets on the command line: taken from standard input or a hidden prompt (never argv),
``wxqr db rotate-secrets`` and ``wxqr db new-secret-key``, and one-line key errors."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from sqlalchemy import select as sql_select
from typer.testing import CliRunner

from wxqr.cli.main import app
from wxqr.service.secrets_box import SEALED_PREFIX, SecretBox, new_secret_key
from wxqr.settings import Settings
from wxqr.store import tables as t
from wxqr.store.db import make_engine

APPID = "wx1111111111111111"
TOKEN = "tok-3n8f-stdin"
APP_SECRET = "app-secret-9x7-stdin"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CLI = [sys.executable, "-c", "from wxqr.cli.main import main; main()"]


def _raw_secrets(url: str) -> dict[str, str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sql_select(t.accounts)).mappings().one()
    finally:
        engine.dispose()
    return {column: row[column] for column in ("token", "app_secret", "aes_key")}


def test_secrets_from_stdin_never_appear_in_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    key = new_secret_key()
    env = {**os.environ, "WXQR_DATABASE_URL": url, "WXQR_SECRET_KEY": key}
    command = [
        *CLI,
        *("account", "add", "--appid", APPID, "--mode", "safe"),
        *("--token-stdin", "--app-secret-stdin", "--aes-key-stdin"),
    ]
    process = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # What any local user sees of the running command (it waits for its secrets).
    cmdline = ""
    deadline = time.monotonic() + 30
    while APPID not in cmdline and time.monotonic() < deadline:
        time.sleep(0.01)  # until the child has exec'd
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
    out, err = process.communicate(f"{TOKEN}\n{APP_SECRET}\n{AES_KEY}\n", timeout=60)
    assert process.returncode == 0, err
    assert APPID in cmdline
    for secret in (TOKEN, APP_SECRET, AES_KEY):
        assert secret not in cmdline
        assert secret not in out + err
    raw = _raw_secrets(url)
    box = SecretBox([key])
    opened = {column: box.open(value or "", what=column) for column, value in raw.items()}
    assert opened == {"token": TOKEN, "app_secret": APP_SECRET, "aes_key": AES_KEY}
    assert all(value and value.startswith(SEALED_PREFIX) for value in raw.values())


def test_dash_reads_stdin_when_it_is_no_terminal_and_old_flags_still_work(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    env = {"WXQR_DATABASE_URL": url}
    added = runner.invoke(
        app,
        ["account", "add", "--appid", APPID, "--token", "-", "--app-secret", "-"],
        input=f"{TOKEN}\n{APP_SECRET}\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert _raw_secrets(url) == {"token": TOKEN, "app_secret": APP_SECRET, "aes_key": None}
    old_style = runner.invoke(
        app,
        ["account", "add", "--appid", "wx2", "--token", "t-argv", "--app-secret", "s-argv"],
        env=env,
    )
    assert old_style.exit_code == 0, old_style.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--token", "t", "--token-stdin"], "x\n", "give --token or --token-stdin, not both"),
        (["--token-stdin"], "", "expected the token on standard input"),
        (["--token-stdin"], "\n", "the token may not be empty"),
        (["--token", "t", "--aes-key-stdin"], "", "expected the EncodingAESKey"),
    ],
)
def test_bad_secret_input_is_one_line(
    tmp_path: Path, args: list[str], stdin: str, message: str
) -> None:
    env = {"WXQR_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    result = CliRunner().invoke(
        app, ["account", "add", "--appid", APPID, *args], input=stdin, env=env
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_rotate_secrets_and_a_wrong_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    plain = {"WXQR_DATABASE_URL": url}
    added = runner.invoke(
        app, ["account", "add", "--appid", APPID, "--token-stdin"], input=f"{TOKEN}\n", env=plain
    )
    assert added.exit_code == 0, added.output
    assert _raw_secrets(url)["token"] == TOKEN

    refused = runner.invoke(app, ["db", "rotate-secrets"], env=plain)
    assert refused.exit_code == 1
    assert "WXQR_SECRET_KEY is not set" in refused.output

    old_key, new_key = new_secret_key(), new_secret_key()
    first = runner.invoke(app, ["db", "rotate-secrets"], env={**plain, "WXQR_SECRET_KEY": old_key})
    assert first.exit_code == 0, first.output
    assert "re-encrypted 1 account secret(s)" in first.output
    under_old = _raw_secrets(url)["token"]
    assert under_old is not None
    assert SecretBox([old_key]).open(under_old, what="t") == TOKEN

    both = {**plain, "WXQR_SECRET_KEY": f"{new_key},{old_key}"}
    second = runner.invoke(app, ["db", "rotate-secrets"], env=both)
    assert second.exit_code == 0, second.output
    under_new = _raw_secrets(url)["token"]
    assert under_new is not None
    assert SecretBox([new_key]).open(under_new, what="t") == TOKEN
    listed = runner.invoke(app, ["account", "list"], env={**plain, "WXQR_SECRET_KEY": new_key})
    assert listed.exit_code == 0, listed.output
    assert APPID in listed.output

    for env in ({**plain, "WXQR_SECRET_KEY": old_key}, plain):
        failed = runner.invoke(app, ["account", "list"], env=env)
        assert failed.exit_code == 1
        lines = failed.output.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("error:")
        assert "WXQR_SECRET_KEY" in lines[0]
        assert TOKEN not in failed.output


def test_new_secret_key_prints_a_usable_key() -> None:
    result = CliRunner().invoke(app, ["db", "new-secret-key"])
    assert result.exit_code == 0
    key = result.output.strip()
    assert Settings.from_env({"WXQR_SECRET_KEY": key}).secret_keys == (key,)
    assert key != CliRunner().invoke(app, ["db", "new-secret-key"]).output.strip()


def _read_until(fd: int, marker: bytes, seen: bytearray, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the terminal closed: the command ended
                return
            if not chunk:
                return
            seen.extend(chunk)


def _type_hidden(fd: int, text: str, timeout: float = 30) -> None:
    """Type ``text`` once the terminal's echo is off (typed earlier, getpass flushes it)."""
    deadline = time.monotonic() + timeout
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        assert time.monotonic() < deadline, "the prompt never turned echo off"
        time.sleep(0.01)
    os.write(fd, f"{text}\r".encode())


def _reap(pid: int) -> int:
    """The child's exit status; killed first if it still runs (so a failure never hangs)."""
    for _ in range(500):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def test_a_dash_on_a_terminal_asks_with_hidden_input(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {**os.environ, "WXQR_DATABASE_URL": url, "COLUMNS": "200"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, on a terminal of its own
        args = [*CLI, "account", "add", "--appid", APPID, "--token", "-"]
        os.execve(sys.executable, args, env)  # noqa: S606 - the test's own interpreter
    seen = bytearray()
    try:
        _read_until(fd, b"token:", seen)
        _type_hidden(fd, TOKEN)
        _read_until(fd, b"AppSecret (Enter for none):", seen)  # omitted on a terminal: asked
        _type_hidden(fd, APP_SECRET)
        _read_until(fd, b"webhook URL", seen)
    finally:
        status = _reap(pid)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, bytes(seen)
    assert TOKEN.encode() not in seen  # not echoed
    assert APP_SECRET.encode() not in seen
    assert _raw_secrets(url) == {"token": TOKEN, "app_secret": APP_SECRET, "aes_key": None}
