"""The channel, code, apikey and admin commands, run in-process on a real database."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, Protocol

import pytest
from typer.testing import CliRunner, Result

from tests.support.qr import decode_png, decode_svg
from wxqr.cli.main import app
from wxqr.emulator.testing import RunningEmulator
from wxqr.service.accounts import Account
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]


class Invoke(Protocol):
    def __call__(self, *args: str, input: str | None = None) -> Result: ...


@pytest.fixture
def run(ws: WS, database_url: str, emulator: RunningEmulator) -> Invoke:
    runner = CliRunner()
    env = {
        "WXQR_DATABASE_URL": database_url,
        "WXQR_WECHAT_API_BASE": emulator.base_url,
        "WXQR_WECHAT_MP_BASE": emulator.base_url,
    }

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_channel_commands(run: Invoke, tmp_path: Path) -> None:
    created = _json(
        run(
            "channel",
            "create",
            "Poster A",
            "--group",
            "posters",
            "--tag",
            "spring",
            "--payload",
            '{"order": 7}',
            "--reply-text",
            "Hi!",
            "--format",
            "json",
        )
    )
    assert created["code"]["scene"] == 1
    assert created["code"]["status"] == "active"
    assert created["payload"] == {"order": 7}
    assert created["reply"] == {"type": "text", "content": "Hi!"}

    temporary = _json(
        run(
            "channel",
            "create",
            "Flyer",
            "--kind",
            "temporary",
            "--expire-days",
            "3",
            "--scene-type",
            "str",
            "--format",
            "json",
        )
    )
    assert temporary["code"]["kind"] == "temporary"

    table = run("channel", "list")
    assert table.exit_code == 0
    assert "Poster A" in table.stdout
    assert "Flyer" in table.stdout
    listed = _json(run("channel", "list", "--format", "json", "--group", "posters"))
    assert [c["name"] for c in listed] == ["Poster A"]

    shown = _json(run("channel", "show", "Poster A", "--format", "json"))
    assert len(shown["codes"]) == 1
    assert shown["metrics"]["scans"] == 0
    assert run("channel", "show", "Poster A").exit_code == 0

    png = tmp_path / "poster.png"
    wrote = _json(run("code", "image", "Poster A", "-o", str(png), "--format", "json"))
    assert wrote["bytes"] > 0
    assert decode_png(png.read_bytes()) == created["code"]["url"]
    svg = tmp_path / "poster.svg"
    assert run("code", "image", "Poster A", "-o", str(svg), "--dark", "#112233").exit_code == 0
    assert decode_svg(svg.read_bytes()) == created["code"]["url"]

    archive = tmp_path / "codes.zip"
    zipped = _json(run("code", "zip", "-o", str(archive), "--format", "json"))
    assert zipped["files"] == ["Poster A.png", "Flyer.png"]
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as files:
        assert decode_png(files.read("Flyer.png")) == temporary["code"]["url"]

    issued = _json(run("code", "issue", "Poster A", "--kind", "temporary", "--format", "json"))
    assert issued["kind"] == "temporary"

    archived = _json(run("channel", "archive", "Poster A", "--format", "json"))
    assert archived["status"] == "archived"
    assert [c["name"] for c in _json(run("channel", "list", "--format", "json"))] == ["Flyer"]


def test_bulk_import(run: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "channels.csv"
    source.write_text("name,group,kind\nA,g,permanent\nB,g,temporary\nC,,\n", encoding="utf-8")
    created = _json(run("channel", "import", str(source), "--format", "json"))
    assert [c["name"] for c in created["created"]] == ["A", "B", "C"]
    again = run("channel", "import", str(source))  # lifecycle: resumable, nothing to do
    assert again.exit_code == 0, again.output
    assert "created 0, skipped 3, failed 0" in again.stdout
    source.write_text("name,group\nA,other\n", encoding="utf-8")
    differs = run("channel", "import", str(source))
    assert differs.exit_code == 1
    assert "already exists and differs" in differs.stderr
    forced = run("channel", "import", str(source), "--skip-existing")
    assert forced.exit_code == 0
    assert "exists and differs" in forced.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("channel", "show", "nope"), "no channel named"),
        (("channel", "create", "X", "--payload", "{bad"), "--payload is not JSON"),
        (("channel", "create", "X", "--expire-days", "3"), "does not expire"),
        (("channel", "create", "X", "--scene", "100001"), "scene_id"),
        (("code", "image", "nope", "-o", "x.gif"), "unknown image format"),
        (("channel", "list", "--account", "wxnope"), "no account"),
    ],
)
def test_errors_are_clear_and_exit_non_zero(
    run: Invoke, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_apikey_and_admin_commands(run: Invoke, ws: WS) -> None:
    workspace, _ = ws
    created = _json(run("apikey", "create", "--name", "ci", "--format", "json"))
    assert workspace.api_keys.authenticate(created["key"]) is not None
    plain = run("apikey", "create", "--name", "ops")
    assert plain.exit_code == 0
    assert "shown only this once" in plain.stdout
    listed = _json(run("apikey", "list", "--format", "json"))
    assert [k["name"] for k in listed] == ["ci", "ops"]
    assert all("key" not in k for k in listed)
    assert run("apikey", "revoke", "ci").exit_code == 0
    assert workspace.api_keys.authenticate(created["key"]) is None

    prompted = run("admin", "set-password", input="correct horse\ncorrect horse\n")
    assert prompted.exit_code == 0, prompted.output
    assert workspace.admin.check_password("correct horse")
    piped = run("admin", "set-password", "--password-stdin", input="battery staple\n")
    assert piped.exit_code == 0
    assert workspace.admin.check_password("battery staple")
    short = run("admin", "set-password", "--password-stdin", input="short\n")
    assert short.exit_code == 1
    assert "at least 8" in short.stderr
