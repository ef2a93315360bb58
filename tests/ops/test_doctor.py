"""``wxqr doctor`` against a real ``wxqr serve`` and the emulator as WeChat."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest

from tests.ops.serving import WXQR, free_port, serve_env, wxqr_serve
from tests.support import pushes as p
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator
from wxqr.protocol import EncryptMode

pytestmark = pytest.mark.slow

SECRET = "doctor-secret"


def doctor(env: Mapping[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [*WXQR, "doctor", "--format", "json", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stdout


def by_name(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in report["checks"]}


def _account(port: int) -> EmulatorAccount:
    return EmulatorAccount(
        appid=p.APPID,
        secret=SECRET,
        token=p.TOKEN,
        aes_key=p.AES_KEY,
        mode=EncryptMode.SAFE,
        original_id=p.ORIGINAL_ID,
        push_url=f"http://127.0.0.1:{port}/wechat/{p.APPID}",
    )


def _env(database_url: str, emu: RunningEmulator, secret: str = SECRET) -> dict[str, str]:
    return serve_env(
        database_url,
        WXQR_APP_SECRET=secret,
        WXQR_WECHAT_API_BASE=emu.base_url,
        WXQR_WECHAT_MP_BASE=emu.base_url,
    )


def test_a_healthy_install_passes_and_says_what_to_improve(database_url: str) -> None:
    port = free_port()
    with running_emulator(accounts=[_account(port)]) as emu:
        env = _env(database_url, emu)
        with wxqr_serve(env, port):
            assert emu.follow("o-doctor").error is None
            url = f"http://127.0.0.1:{port}/wechat/{p.APPID}"
            status, report, raw = doctor(env, "--webhook-url", url)
            assert status == 0, raw
            checks = by_name(report)
            assert report["ok"] is True
            for name in ("configuration", "database", "migrations", f"credentials {p.APPID}"):
                assert checks[name]["status"] == "ok", checks[name]
            assert checks["webhook"]["status"] == "ok"
            assert "echostr" in checks["webhook"]["detail"]
            assert checks["webhook port"]["status"] == "warn"  # not 80/443
            assert checks["webhook https"]["status"] == "warn"
            assert checks["clock"]["status"] == "ok"
            assert SECRET not in raw
            assert p.TOKEN not in raw

            # WeChat's clock 400 s ahead of this host's: near the 600 s staleness limit.
            emu.advance(400)
            assert emu.follow("o-doctor-2").error is None
            status, report, _ = doctor(env)
            clock = by_name(report)["clock"]
            assert (status, clock["status"]) == (1, "fail"), clock
            skew = float(re.search(r"is ([-+][\d.]+) s", clock["detail"]).group(1))  # type: ignore[union-attr]
            assert -402 < skew < -398
            assert "synchronise" in clock["fix"]
            assert by_name(report)["webhook"]["status"] == "skip"


def test_wrong_secret_unknown_webhook_and_empty_database_are_failures(
    database_url: str, tmp_path: Any
) -> None:
    port = free_port()
    with running_emulator(accounts=[_account(port)]) as emu:
        env = _env(database_url, emu, secret="not-the-secret")
        status, report, _ = doctor(env, "--webhook-url", f"{emu.base_url}/wechat/{p.APPID}")
        checks = by_name(report)
        assert status == 1
        assert checks[f"credentials {p.APPID}"]["status"] == "fail"
        assert "AppSecret" in checks[f"credentials {p.APPID}"]["fix"]
        assert checks["webhook"]["status"] == "fail"

        empty = _env(f"sqlite:///{tmp_path / 'empty.sqlite3'}", emu)
        status, report, _ = doctor(empty)
        checks = by_name(report)
        assert status == 1
        assert checks["migrations"]["status"] == "fail"
        assert checks["migrations"]["fix"].startswith("run `wxqr db upgrade`")


def test_a_bad_variable_is_reported_not_raised(database_url: str) -> None:
    env = {**serve_env(database_url), "WXQR_PUSH_MAX_AGE_SECONDS": "abc"}
    status, report, _ = doctor(env)
    assert status == 1
    [check] = report["checks"]
    assert check["name"] == "configuration"
    assert check["status"] == "fail"
    assert "WXQR_PUSH_MAX_AGE_SECONDS" in check["detail"]


def test_an_unreachable_database_is_a_failure_with_its_fix() -> None:
    port = free_port()
    env = serve_env(f"postgresql://nobody@127.0.0.1:{port}/none")
    status, report, _ = doctor(env)
    assert status == 1
    checks = by_name(report)
    assert checks["database"]["status"] == "fail"
    assert "WXQR_DATABASE_URL" in checks["database"]["fix"]
