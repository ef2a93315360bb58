"""``wxqr poster``: templates and posters from the command line, on a real database."""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any, Protocol

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from tests.support.artwork import busy_artwork, plain_image, sample_layout
from tests.support.qr import decode_png
from wxqr.cli.main import app
from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import QRKind
from wxqr.service.accounts import Account
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]


class Invoke(Protocol):
    def __call__(self, *args: str) -> Result: ...


@pytest.fixture
def run(ws: WS, database_url: str, emulator: RunningEmulator) -> Invoke:
    runner = CliRunner()
    env = {
        "WXQR_DATABASE_URL": database_url,
        "WXQR_WECHAT_API_BASE": emulator.base_url,
        "WXQR_WECHAT_MP_BASE": emulator.base_url,
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_templates_and_posters_from_the_cli(run: Invoke, ws: WS, tmp_path: Path) -> None:
    workspace, account = ws
    artwork = tmp_path / "art.jpg"
    artwork.write_bytes(busy_artwork())
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(sample_layout(700)), encoding="utf-8")
    made = _json(
        run(
            "poster",
            "template",
            "add",
            "Spring",
            "--artwork",
            str(artwork),
            "--layout",
            f"@{layout}",
            "--format",
            "json",
        )
    )
    assert made["layout"]["code"]["size"] == 700
    listed = run("poster", "template", "list")
    assert "Spring" in listed.output
    moved = _json(
        run("poster", "template", "layout", "Spring", "--code", "100,200,800", "-f", "json")
    )
    assert moved["layout"]["code"] == {**made["layout"]["code"], "x": 100, "y": 200, "size": 800}
    assert len(moved["layout"]["captions"]) == 2  # kept

    group = f"cli-{uuid.uuid4().hex[:6]}"
    ids = [
        workspace.channel_codes.create(
            account.id, NewChannel(name=f"{group}-{n}", group=group), CodeSpec()
        ).channel.id
        for n in range(3)
    ]
    urls = workspace.codes.current_codes(ids)
    one = tmp_path / "one.png"
    wrote = _json(run("poster", "render", f"{group}-0", "-o", str(one), "-f", "json"))
    assert wrote["content_type"] == "image/png"
    assert decode_png(one.read_bytes()) == urls[ids[0]].url

    archive = tmp_path / "all.zip"
    zipped = run(
        "poster", "render", "--group", group, "--zip", str(archive), "--template", "Spring"
    )
    assert zipped.exit_code == 0, zipped.output
    assert "3 posters" in " ".join(zipped.output.split())
    with zipfile.ZipFile(archive) as opened:
        assert sorted(opened.namelist()) == [f"{group}-{n}.jpg" for n in range(3)]
        assert decode_png(opened.read(f"{group}-2.jpg")) == urls[ids[2]].url
    assert not archive.with_name("all.zip.part").exists()

    removed = run("poster", "template", "remove", "Spring")
    assert removed.exit_code == 0, removed.output
    assert _json(run("poster", "template", "list", "-f", "json")) == []


def test_bad_input_is_one_line(run: Invoke, tmp_path: Path) -> None:
    small = tmp_path / "small.png"
    small.write_bytes(plain_image((600, 800)))
    cases = [
        (
            ("poster", "template", "add", "T", "--artwork", str(small), "--code", "0,0,120"),
            "per module",
        ),
        (("poster", "template", "add", "T", "--artwork", str(small)), "--code"),
        (
            (
                "poster",
                "template",
                "add",
                "T",
                "--artwork",
                str(tmp_path / "nope.png"),
                "--code",
                "0,0,400",
            ),
            "cannot read",
        ),
        (("poster", "template", "add", "T", "--artwork", str(small), "--layout", "{"), "not JSON"),
        (("poster", "render"), "name a channel"),
        (("poster", "render", "nobody", "-o", str(tmp_path / "x.png")), "no channel"),
    ]
    for args, words in cases:
        result = run(*args)
        assert result.exit_code != 0, args
        assert words in " ".join(result.output.split()), (args, result.output)
        assert "Traceback" not in result.output


def test_styled_codes_from_the_cli(run: Invoke, ws: WS, tmp_path: Path) -> None:
    workspace, account = ws
    name = f"styled-{uuid.uuid4().hex[:6]}"
    channel = workspace.channel_codes.create(
        account.id, NewChannel(name=name, group="print"), CodeSpec()
    )
    assert channel.code is not None
    logo = tmp_path / "logo.png"
    logo.write_bytes(plain_image((100, 100)))
    assert run("code", "logo", "set", str(logo)).exit_code == 0
    saved = run(
        "code", "style", "set", "--group", "print", "--dark", "#1b5e20", "--size", "480", "--logo"
    )
    assert saved.exit_code == 0, saved.output
    assert "print" in json.loads(run("code", "style", "show").stdout)
    out = tmp_path / "styled.png"
    wrote = run("code", "styled", name, "-o", str(out))
    assert wrote.exit_code == 0, wrote.output
    assert decode_png(out.read_bytes()) == channel.code.url
    image = Image.open(out).convert("RGB")
    assert image.size == (480, 480)
    assert image.getpixel((240, 240)) == (245, 230, 200)  # the logo
    refused = run("code", "styled", name, "-o", str(out), "--dark", "#eeeeee")
    assert refused.exit_code != 0
    assert "contrast" in refused.output
    assert "Traceback" not in refused.output
    assert "style removed" in run("code", "style", "remove", "--group", "print").output
    assert "logo removed" in run("code", "logo", "remove").output


def test_temporary_codes_on_posters_warn_on_stderr(run: Invoke, ws: WS, tmp_path: Path) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "Temp", busy_artwork(), sample_layout(700))
    group = f"temp-{uuid.uuid4().hex[:6]}"
    temporary = CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=3 * 86400)
    for n in range(2):
        workspace.channel_codes.create(
            account.id, NewChannel(name=f"{group}-{n}", group=group), temporary
        )
    one = tmp_path / "one.jpg"
    wrote = run("poster", "render", f"{group}-0", "-o", str(one), "-f", "json")
    assert wrote.exit_code == 0, wrote.output
    assert json.loads(wrote.stdout)["file"] == str(one)  # stdout stays data
    assert "stops working on" in wrote.stderr
    assert "--kind permanent" in wrote.stderr

    archive = tmp_path / "temp.zip"
    zipped = run("poster", "render", "--group", group, "--zip", str(archive))
    assert zipped.exit_code == 0, zipped.output
    assert "stops working on" in zipped.stderr
    assert "and 1 more temporary code" in " ".join(zipped.stderr.split())
