"""cgi-bin/token and cgi-bin/stable_token: issuing, overlap, expiry and errcodes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from wxqr.emulator.testing import RunningEmulator

from .conftest import APPID, SECRET, get_token


def _classic(http: httpx.Client, **params: str) -> dict[str, Any]:
    base = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    result: dict[str, Any] = http.get("/cgi-bin/token", params={**base, **params}).json()
    return result


def _stable(http: httpx.Client, **body: Any) -> dict[str, Any]:
    base = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    result: dict[str, Any] = http.post("/cgi-bin/stable_token", json={**base, **body}).json()
    return result


def _tags(http: httpx.Client, token: str) -> dict[str, Any]:
    result: dict[str, Any] = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
    return result


def test_classic_token_answers_token_and_expires_in(http: httpx.Client) -> None:
    data = _classic(http)
    assert set(data) == {"access_token", "expires_in"}
    assert data["expires_in"] == 7200
    assert 100 <= len(data["access_token"]) <= 512
    assert "errcode" not in _tags(http, data["access_token"])


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"grant_type": "password"}, 40002),
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
        ({"appid": "wx_not_hosted_here"}, 40013),
        ({"secret": "wrong-secret"}, 40001),
    ],
)
def test_classic_token_credential_errors(
    http: httpx.Client, params: dict[str, str], errcode: int
) -> None:
    response = http.get(
        "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **params},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["errcode"] == errcode
    assert "rid:" in data["errmsg"]
    assert SECRET not in response.text


def test_new_classic_token_invalidates_previous_after_overlap(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    first = get_token(http)
    second = get_token(http)
    assert first != second
    emu.advance(299)
    assert "errcode" not in _tags(http, first)
    emu.advance(2)
    assert _tags(http, first)["errcode"] == 40001
    assert "errcode" not in _tags(http, second)


def test_token_expires_after_expires_in(emu: RunningEmulator, http: httpx.Client) -> None:
    emu.configure(token_expires_in=30)
    data = _classic(http)
    assert data["expires_in"] == 30
    emu.advance(29)
    assert "errcode" not in _tags(http, data["access_token"])
    emu.advance(2)
    assert _tags(http, data["access_token"])["errcode"] == 42001


def test_overlap_is_configurable(emu: RunningEmulator, http: httpx.Client) -> None:
    emu.configure(token_overlap=0)
    first = get_token(http)
    get_token(http)
    assert _tags(http, first)["errcode"] == 40001


@pytest.mark.parametrize(
    ("token", "errcode"),
    [
        (None, 41001),
        ("", 41001),
        ("garbage!", 40014),
        ("85_" + "A" * 128, 40001),
    ],
)
def test_api_token_errors(http: httpx.Client, token: str | None, errcode: int) -> None:
    params = {} if token is None else {"access_token": token}
    assert http.get("/cgi-bin/tags/get", params=params).json()["errcode"] == errcode


def test_reset_forgets_tokens(emu: RunningEmulator, http: httpx.Client) -> None:
    token = get_token(http)
    emu.reset()
    assert _tags(http, token)["errcode"] == 40001


def test_stable_token_normal_mode_returns_current_token(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    first = _stable(http)
    assert first["expires_in"] == 7200
    emu.advance(1000)
    again = _stable(http, force_refresh=False)
    assert again["access_token"] == first["access_token"]
    assert 6198 <= again["expires_in"] <= 6200


def test_stable_token_renews_near_expiry_and_old_one_lives_on(
    emu: RunningEmulator, http: httpx.Client
) -> None:
    first = _stable(http)
    emu.advance(7200 - 299)
    renewed = _stable(http)
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200
    assert "errcode" not in _tags(http, first["access_token"])
    emu.advance(300)
    assert _tags(http, first["access_token"])["errcode"] == 42001
    assert "errcode" not in _tags(http, renewed["access_token"])


def test_stable_and_classic_tokens_are_separate(emu: RunningEmulator, http: httpx.Client) -> None:
    stable = _stable(http)["access_token"]
    classic = get_token(http)
    assert classic != stable
    get_token(http)
    emu.advance(400)
    assert "errcode" not in _tags(http, stable)
    assert _stable(http)["access_token"] == stable
    assert _tags(http, classic)["errcode"] == 40001


def test_stable_force_refresh_limits(emu: RunningEmulator, http: httpx.Client) -> None:
    first = _stable(http)["access_token"]
    forced = _stable(http, force_refresh=True)
    assert forced["access_token"] != first
    # the previous token survives the overlap window, then is gone
    emu.advance(299)
    assert "errcode" not in _tags(http, first)
    emu.advance(2)
    assert _tags(http, first)["errcode"] == 40001
    # at least 30 s apart
    assert "access_token" in _stable(http, force_refresh=True)
    emu.advance(10)
    assert _stable(http, force_refresh=True)["errcode"] == 45011
    emu.advance(21)
    assert "access_token" in _stable(http, force_refresh=True)


def test_stable_force_refresh_twenty_a_day(emu: RunningEmulator, http: httpx.Client) -> None:
    for _ in range(20):
        assert "access_token" in _stable(http, force_refresh=True)
        emu.advance(31)
    assert _stable(http, force_refresh=True)["errcode"] == 45009
    # normal mode still works
    assert "access_token" in _stable(http)
    emu.advance(86_400)
    assert "access_token" in _stable(http, force_refresh=True)


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"grant_type": "x"}, 40002),
        ({"appid": None}, 41002),
        ({"secret": None}, 41004),
        ({"appid": "wx_unknown"}, 40013),
        ({"secret": "wrong"}, 40125),
    ],
)
def test_stable_token_errors(http: httpx.Client, body: dict[str, Any], errcode: int) -> None:
    assert _stable(http, **body)["errcode"] == errcode


def test_stable_token_body_errors(http: httpx.Client) -> None:
    assert http.post("/cgi-bin/stable_token", content=b"").json()["errcode"] == 44002
    assert http.post("/cgi-bin/stable_token", content=b"{nope").json()["errcode"] == 47001


def test_wrong_method(http: httpx.Client) -> None:
    assert http.get("/cgi-bin/stable_token").json()["errcode"] == 43002
    assert http.post("/cgi-bin/token").json()["errcode"] == 43001


def test_daily_quota_on_token(emu: RunningEmulator, http: httpx.Client) -> None:
    emu.configure(daily_quota=2)
    get_token(http)
    get_token(http)
    assert _classic(http)["errcode"] == 45009
    emu.advance(86_400)
    assert "access_token" in _classic(http)
