"""``wxqr emulator``: the real command in a subprocess, and its argument errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from wxqr.cli.main import app

LAUNCH = "from wxqr.cli.main import main; main()"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    banner = []
    for line in proc.stdout:
        banner.append(line)
        if line.startswith("Docs:"):
            break
    return proc, "".join(banner)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/_emulator/config", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the emulator did not come up")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _token(base: str, appid: str, secret: str) -> str:
    params = {"grant_type": "client_credential", "appid": appid, "secret": secret}
    return str(httpx.get(base + "/cgi-bin/token", params=params).json()["access_token"])


def test_command_serves_prints_and_keeps_state(tmp_path: Path) -> None:
    port = _free_port()
    state = tmp_path / "emu.sqlite3"
    args = ["--port", str(port), "--appid", "wxcli000000000001", "--secret", "cli-secret"]
    args += ["--token", "cli-token", "--state", str(state)]
    base = f"http://127.0.0.1:{port}"
    proc, banner = _start(args)
    try:
        assert base in banner
        assert "wxcli000000000001" in banner
        assert "cli-secret" in banner
        assert "WXQR_WECHAT_API_BASE" in banner
        _wait_until_up(base)
        token = _token(base, "wxcli000000000001", "cli-secret")
        body = {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 5}}}
        first = httpx.post(
            base + "/cgi-bin/qrcode/create", params={"access_token": token}, json=body
        ).json()
        httpx.post(base + "/_emulator/scan", json={"openid": "o1", "url": first["url"]})
    finally:
        _stop(proc)
    assert state.exists()

    proc, _ = _start(args)
    try:
        _wait_until_up(base)
        again = httpx.post(
            base + "/cgi-bin/qrcode/create", params={"access_token": token}, json=body
        ).json()
        assert again["url"] == first["url"]
        followers = httpx.get(base + "/_emulator/followers").json()["followers"]
        assert [f["openid"] for f in followers] == ["o1"]
    finally:
        _stop(proc)


def test_bad_aes_key_is_refused_without_echoing_it() -> None:
    key = "short-but-secret"
    result = CliRunner().invoke(app, ["emulator", "--mode", "safe", "--aes-key", key])
    assert result.exit_code == 2
    assert "EncodingAESKey" in result.output
    assert key not in result.output


def test_encrypted_mode_needs_a_key() -> None:
    result = CliRunner().invoke(app, ["emulator", "--mode", "compatible"])
    assert result.exit_code == 2
    assert "needs an EncodingAESKey" in result.output
