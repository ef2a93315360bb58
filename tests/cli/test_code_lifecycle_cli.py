"""``wxqr code expiring|quota``, ``wxqr channel renewal``, and exports that refuse expired
codes unless --force and warn (on stderr) about temporary ones (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tests.support.lifecycle_stack import expire_code
from wxqr.cli.main import app
from wxqr.emulator.testing import RunningEmulator
from wxqr.service.accounts import Account
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]


@pytest.fixture
def run(ws: WS, database_url: str, emulator: RunningEmulator) -> Any:
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


def test_lifecycle_commands(run: Any, ws: WS, tmp_path: Path) -> None:
    flyer = _json(
        run(
            "channel",
            "create",
            "Flyer",
            "--kind",
            "temporary",
            "--expire-days",
            "3",
            "--format",
            "json",
        )
    )
    _json(run("channel", "create", "Poster", "--format", "json"))

    image = run("code", "image", "Flyer", "-o", str(tmp_path / "flyer.png"))
    assert image.exit_code == 0, image.output
    assert "stops working on" in image.stderr
    assert "--kind permanent" in image.stderr
    assert "stops working" not in image.stdout

    listed = _json(run("code", "expiring", "--within", "7d", "--format", "json"))
    assert [(c["channel"], c["expired"]) for c in listed] == [("Flyer", False)]
    assert _json(run("code", "expiring", "--within", "2d", "--format", "json")) == []
    bad = run("code", "expiring", "--within", "soon")
    assert bad.exit_code == 1
    assert "not a duration" in bad.stderr

    quota = _json(run("code", "quota", "--format", "json"))
    assert quota["wxqr_used"] == 2
    assert (quota["permanent_used"], quota["permanent_limit"]) == (1, 100_000)
    assert quota["source"] == "wechat"
    shown = run("code", "quota")
    assert "permanent codes" in shown.stdout

    renewal = _json(
        run("channel", "renewal", "Flyer", "--auto-renew", "--lead", "36h", "--format", "json")
    )
    assert renewal == {
        "channel_id": flyer["id"],
        "auto_renew": True,
        "lead_seconds": 36 * 3600,
        "lead_is_default": False,
    }
    assert "auto-renew of 'Flyer': on, 36 h" in run("channel", "renewal", "Flyer").stdout

    workspace, _ = ws
    expire_code(workspace.engine, flyer["code"]["id"])
    refused = run("code", "image", "Flyer", "-o", str(tmp_path / "late.png"))
    assert refused.exit_code == 1
    assert "expired on" in refused.stderr
    assert "--force" in refused.stderr
    assert not (tmp_path / "late.png").exists()
    forced = run("code", "image", "Flyer", "-o", str(tmp_path / "late.png"), "--force")
    assert forced.exit_code == 0
    assert "exported anyway" in forced.stderr

    zipped = _json(run("code", "zip", "-o", str(tmp_path / "all.zip"), "--format", "json"))
    assert zipped["files"] == ["Poster.png"]
    assert _json(
        run("code", "zip", "-o", str(tmp_path / "all.zip"), "--force", "--format", "json")
    )["files"] == ["Flyer.png", "Poster.png"]

    reissued = _json(run("code", "reissue", "--format", "json"))
    assert [i["channel"] for i in reissued["issued"]] == ["Flyer"]
    assert reissued["issued"][0]["kind"] == "permanent"
    assert reissued["skipped"] == [{"channel": "Poster", "reason": "its code is still active"}]
