"""``openapi/quota/get``: qrcode/create's daily quota counted from the calls that issued a
ticket, 45009 when used up, reset on the next China day by the emulator's clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import QRRequest
from wxqr.wechat import ClientConfig, QuotaExceeded, SyncWeChatClient

from .conftest import APPID, SECRET
from .test_qrcode import create, perm, temp

CREATE = "/cgi-bin/qrcode/create"


def quota(http: httpx.Client, token: str, cgi_path: Any = CREATE) -> dict[str, Any]:
    response = http.post(
        "/cgi-bin/openapi/quota/get", params={"access_token": token}, json={"cgi_path": cgi_path}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_quota_counts_issued_codes_and_resets_daily(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    assert quota(http, token) == {
        "errcode": 0,
        "errmsg": "ok",
        "quota": {"daily_limit": 100_000, "used": 0, "remain": 100_000},
    }
    emu.configure(daily_quota=3)
    create(http, token, temp(5))
    create(http, token, perm(6))
    assert create(http, token, {"action_name": "nope"})["errcode"] == 40053  # not counted
    assert quota(http, token)["quota"] == {"daily_limit": 3, "used": 2, "remain": 1}
    assert quota(http, token)["quota"]["used"] == 2  # asking costs nothing
    create(http, token, temp(7))
    assert create(http, token, temp(8))["errcode"] == 45009
    assert quota(http, token)["quota"] == {"daily_limit": 3, "used": 3, "remain": 0}
    emu.advance(86_400)
    fresh = get_fresh_token(http)
    assert quota(http, fresh)["quota"]["used"] == 0
    assert "ticket" in create(http, fresh, temp(9))


def get_fresh_token(http: httpx.Client) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    return str(http.get("/cgi-bin/token", params=params).json()["access_token"])


def test_quota_errors(http: httpx.Client, token: str) -> None:
    assert quota(http, token, "/cgi-bin/no/such/api")["errcode"] == 76021
    assert quota(http, token, None)["errcode"] == 40097
    assert quota(http, "bad-token")["errcode"] in (40001, 40014)


def test_the_client_reads_the_quota_and_types_45009(emu: RunningEmulator) -> None:
    emu.configure(daily_quota=1)
    config = ClientConfig(appid=APPID, secret=SECRET, api_base=emu.base_url)
    with SyncWeChatClient(config) as client:
        client.create_qrcode(QRRequest.temporary(11, 600))
        read = client.api_quota(CREATE)
        assert (read.daily_limit, read.used, read.remain) == (1, 1, 0)
        with pytest.raises(QuotaExceeded) as refused:
            client.create_qrcode(QRRequest.temporary(12, 600))
        assert refused.value.errcode == 45009
