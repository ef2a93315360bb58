"""Fault injection and the control API's own endpoints."""

from __future__ import annotations

import httpx
import pytest

from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator

from .conftest import APPID, get_token


def test_busy_ratio_answers_errcode_minus_one(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    emu.set_faults(busy_ratio=1.0)
    data = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
    assert data["errcode"] == -1
    # the control API is never faulty
    assert emu.follow("o1").outcome == "follow"
    emu.set_faults()
    assert "tags" in http.get("/cgi-bin/tags/get", params={"access_token": token}).json()


def test_partial_busy_ratio_is_repeatable_with_a_seed(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    def run() -> list[bool]:
        emu.set_faults(busy_ratio=0.5, seed=7)
        return [
            "errcode" in http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
            for _ in range(40)
        ]

    first = run()
    assert first == run()
    assert 5 < sum(first) < 35


def test_dropped_connection(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    emu.set_faults(drop_ratio=1.0, paths=["/cgi-bin/tags"])
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/cgi-bin/tags/get", params={"access_token": token})
    # other paths are untouched
    assert get_token(http)


def test_latency(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    emu.set_faults(latency=0.3)
    with pytest.raises(httpx.ReadTimeout):
        http.get("/cgi-bin/tags/get", params={"access_token": token}, timeout=0.1)


def test_bad_fault_settings_are_refused(emu: RunningEmulator) -> None:
    with pytest.raises(ValueError, match="busy_ratio"):
        emu.set_faults(busy_ratio=1.5)
    with pytest.raises(ValueError, match="unexpected keyword"):
        emu._call("POST", "/faults", json={"nonsense": 1})


def test_calls_are_counted(emu: RunningEmulator, http: httpx.Client) -> None:
    assert emu.calls("/cgi-bin/token") == 0
    token = get_token(http)
    get_token(http)
    http.get("/cgi-bin/tags/get", params={"access_token": token})
    assert emu.calls("/cgi-bin/token") == 2
    assert emu.call_counts() == {"/cgi-bin/token": 2, "/cgi-bin/tags/get": 1}
    assert emu.calls() == 3
    assert http.get("/_emulator/calls").json() == {"calls": emu.call_counts()}


def test_config_endpoint(emu: RunningEmulator, http: httpx.Client) -> None:
    settings = emu.configure(token_expires_in=60, daily_quota=5)
    assert settings["token_expires_in"] == 60
    assert settings["daily_quota"] == 5
    assert http.get("/_emulator/config").json() == settings
    for bad in ({"token_expires_in": 0}, {"push_timeout": 0}, {"nope": 1}, {"daily_quota": "x"}):
        response = http.post("/_emulator/config", json=bad)
        assert response.status_code == 400
    assert http.get("/_emulator/config").json() == settings


def test_clock_endpoint(emu: RunningEmulator, http: httpx.Client) -> None:
    before = emu.now()
    after = emu.advance(3600)
    assert 3599 < after - before < 3700
    assert http.post("/_emulator/clock", json={"advance": -1}).status_code == 400
    assert http.post("/_emulator/clock", json={}).status_code == 400
    assert abs(emu.set_clock(1_800_000_000) - 1_800_000_000) < 2


def test_accounts_endpoint_hides_secrets(emu: RunningEmulator, http: httpx.Client) -> None:
    listing = http.get("/_emulator/accounts")
    assert listing.status_code == 200
    account = listing.json()["accounts"][0]
    assert account["appid"] == APPID
    assert set(account) == {"appid", "original_id", "mode", "push_url", "has_aes_key"}
    secret = emu.config.accounts[0].secret
    assert secret not in listing.text
    assert http.post(f"/_emulator/accounts/{APPID}", json={"appid": "x"}).status_code == 400
    assert http.get("/_emulator/accounts/wx_unknown").status_code == 404
    assert http.post(f"/_emulator/accounts/{APPID}", json={"mode": "safe"}).json()["mode"] == (
        "safe"
    )


def test_control_input_errors(emu: RunningEmulator, http: httpx.Client) -> None:
    assert http.post("/_emulator/scan", json={"openid": "o"}).status_code == 400
    both = {"openid": "o", "ticket": "t", "url": "u"}
    assert http.post("/_emulator/scan", json=both).status_code == 400
    assert http.post("/_emulator/follow", json={}).status_code == 400
    assert http.post("/_emulator/follow", content=b"{").status_code == 400
    assert http.post("/_emulator/follow", json={"openid": "o", "appid": "wx?"}).status_code == 404


def test_reset(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    emu.follow("o1")
    emu.set_faults(busy_ratio=1.0)
    emu.configure(permanent_limit=1)
    emu.reset()
    assert emu.followers() == []
    assert emu.pushes() == []
    assert emu.calls() == 0
    assert http.get("/_emulator/faults").json()["busy_ratio"] == 0.0
    assert http.get("/_emulator/config").json()["permanent_limit"] == 100_000


def test_add_account_at_runtime() -> None:
    extra = EmulatorAccount(appid="wxextra0000000001", secret="xs", token="xt")
    with running_emulator() as emu, httpx.Client(base_url=emu.base_url) as http:
        emu.add_account(extra)
        assert get_token(http, extra.appid, "xs")
        with pytest.raises(ValueError, match="exists"):
            emu.add_account(extra)
        with pytest.raises(ValueError, match="several accounts"):
            emu.follow("o1")
