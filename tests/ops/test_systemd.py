"""deploy/systemd: the units pass ``systemd-analyze verify`` (CI installs systemd), and the
readiness wait their ``ExecStartPost=`` runs behaves."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.serving import free_port, serve_env, wxqr_serve

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


def _installed(folder: Path) -> Path:
    """The units as installed on this machine: /opt/wxqr/venv is this test's venv."""
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/opt/wxqr/venv", sys.prefix)
        (folder / unit.name).write_text(text)
    return folder


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (CI installs Debian's systemd)")
    folder = _installed(tmp_path)
    shutil.copyfile(folder / "wxqr@.service", folder / "wxqr@8000.service")
    for unit in ("wxqr@8000.service", "wxqr-backup.service", "wxqr-backup.timer"):
        done = subprocess.run(
            [analyze, "verify", str(folder / unit)], capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stdout + done.stderr) == (0, ""), unit


def test_the_service_is_hardened_and_restarts() -> None:
    lines = set((UNITS / "wxqr@.service").read_text().splitlines())
    for setting in (
        "User=wxqr",
        "StateDirectory=wxqr",
        "EnvironmentFile=/etc/wxqr/wxqr.env",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "KillSignal=SIGTERM",
    ):
        assert setting in lines, setting
    [start] = [line for line in lines if line.startswith("ExecStart=")]
    assert "--workers" in start
    assert "--port %i" in start


def _readiness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wxqr.cli.readiness", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_readiness_wait_returns_once_ready(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/readyz"
    down = _readiness(url, "0.5")
    assert down.returncode == 1
    assert "was not ready within 0.5 s" in down.stderr
    assert _readiness("not-a-url").returncode == 2
    with wxqr_serve(serve_env(f"sqlite:///{tmp_path / 'ready.sqlite3'}"), port):
        assert _readiness(url, "10").returncode == 0
