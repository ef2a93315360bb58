"""docs/deployment.md and the operations page stay true: every ``wxqr`` command they show
exists with the options they give it, every ``deploy/`` file they install exists, and the
``/usr/local/sbin/wxqr`` wrapper runs wxqr with the example environment file."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from wxqr.cli.main import app
from wxqr.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "docs" / "deployment.md", REPO / "docs" / "operations.md"]
WRAPPER = REPO / "deploy" / "bin" / "wxqr"
ENV_EXAMPLE = REPO / "deploy" / "systemd" / "wxqr.env.example"


def _shell_lines(page: Path) -> list[str]:
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", page.read_text(), flags=re.S):
        lines.extend(line.strip() for line in block.splitlines() if line.strip())
    return lines


def _commands() -> list[list[str]]:
    """Every ``wxqr …`` invocation in the pages' shell blocks (after ``VAR=value``s)."""
    found = []
    for page in DOCS:
        for line in _shell_lines(page):
            lexer = shlex.shlex(line.replace("…", "x"), posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            words: list[str] = []
            for token in [*lexer, ";"]:
                if token not in (";", "&&", "||", "|"):
                    words.append(token)
                    continue
                while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                    words.pop(0)
                if words and words[0] == "wxqr":
                    found.append(words[1:])
                words = []
    return found


def test_every_documented_wxqr_command_and_option_exists() -> None:
    root = typer.main.get_command(app)
    commands = _commands()
    assert len(commands) >= 10
    for words in commands:
        command: Any = root  # typer's own click: groups are the commands with subcommands
        rest = list(words)
        while hasattr(command, "commands") and rest and rest[0] in command.commands:
            command = command.commands[rest.pop(0)]
        # A group is a command only when it runs without a subcommand (``wxqr stats``).
        runs_alone = getattr(command, "invoke_without_command", False)
        assert not hasattr(command, "commands") or runs_alone, (
            f"wxqr {' '.join(words)}: no such command"
        )
        options = {opt for param in command.params for opt in param.opts}
        for word in rest:
            if word.startswith("--") and word != "--":
                assert word.split("=")[0] in options, f"wxqr {' '.join(words)}: {word}?"


def test_every_installed_file_is_in_the_repository() -> None:
    text = "\n".join(line for page in DOCS for line in _shell_lines(page))
    paths = set(re.findall(r"/opt/wxqr/src/(deploy/\S+)", text))
    assert len(paths) >= 6
    for path in paths:
        assert (REPO / path).is_file(), path
    for unit in re.findall(r"\b(wxqr@\d+|wxqr-backup\.timer)\b", text):
        name = "wxqr@.service" if unit.startswith("wxqr@") else unit
        assert (REPO / "deploy" / "systemd" / name).is_file(), unit


def _example_env(tmp_path: Path) -> Path:
    """The example file as an operator fills it in (SQLite, no placeholders left)."""
    text = ENV_EXAMPLE.read_text()
    text = re.sub(
        r"(?m)^WXQR_DATABASE_URL=.*$", f"WXQR_DATABASE_URL=sqlite:///{tmp_path}/w.sqlite3", text
    )
    text = text.replace("CHANGE-ME-43-characters-EncodingAESKey-xxxx", "k" * 43)
    env_file = tmp_path / "wxqr.env"
    env_file.write_text(text.replace("CHANGE-ME", "filled-in"))
    env_file.chmod(0o600)
    return env_file


def test_the_example_environment_file_is_valid(tmp_path: Path) -> None:
    pairs = [
        line.split("=", 1)
        for line in _example_env(tmp_path).read_text().splitlines()
        if line and not line.startswith("#")
    ]
    settings = Settings.from_env(dict(pairs))
    assert settings.trusted_proxies == ("127.0.0.1",)
    assert settings.env_account is not None
    assert settings.env_account.encrypt_mode.value == "safe"


def test_the_wrapper_runs_wxqr_as_the_service_would(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("the wrapper switches users with runuser: needs root (CI runs as root)")
    env = {
        "PATH": os.environ["PATH"],
        "ENV_FILE": str(_example_env(tmp_path)),
        "VENV": sys.prefix,
        "SERVICE_USER": "root",
        "STATE_DIRECTORY": str(tmp_path),
    }
    upgraded = subprocess.run(
        [str(WRAPPER), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database upgraded from empty" in upgraded.stdout
    listed = subprocess.run(
        [str(WRAPPER), "account", "list"], env=env, capture_output=True, text=True, timeout=120
    )
    assert "wx0123456789abcdef" in listed.stdout
    missing = subprocess.run(
        [str(WRAPPER), "db", "current"],
        env={**env, "ENV_FILE": str(tmp_path / "nope")},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
