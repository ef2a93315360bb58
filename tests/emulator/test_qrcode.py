"""qrcode/create and showqrcode: the four kinds, validation, limits, quota, expiry."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import zxingcpp
from PIL import Image

from wxqr.emulator import decode_ticket
from wxqr.emulator.testing import RunningEmulator

from .conftest import get_token

URL_PREFIX = "http://weixin.qq.com/q/"


def create(http: httpx.Client, token: str, body: Any) -> dict[str, Any]:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = http.post("/cgi-bin/qrcode/create", params={"access_token": token}, content=content)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def temp(scene: int | str, expire: int | None = 600) -> dict[str, Any]:
    key = "scene_str" if isinstance(scene, str) else "scene_id"
    body: dict[str, Any] = {
        "action_name": "QR_STR_SCENE" if isinstance(scene, str) else "QR_SCENE",
        "action_info": {"scene": {key: scene}},
    }
    if expire is not None:
        body["expire_seconds"] = expire
    return body


def perm(scene: int | str) -> dict[str, Any]:
    key = "scene_str" if isinstance(scene, str) else "scene_id"
    name = "QR_LIMIT_STR_SCENE" if isinstance(scene, str) else "QR_LIMIT_SCENE"
    return {"action_name": name, "action_info": {"scene": {key: scene}}}


def decoded(jpeg: bytes) -> list[str]:
    with Image.open(io.BytesIO(jpeg)) as image:
        return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("body", [temp(123), temp("promo-7"), perm(77), perm("shop/北京")])
def test_four_kinds_answer_ticket_and_url(
    emu: RunningEmulator, http: httpx.Client, token: str, body: dict[str, Any]
) -> None:
    data = create(http, token, body)
    assert data["url"].startswith(URL_PREFIX)
    assert len(data["url"]) == len(URL_PREFIX) + 22
    permanent = body["action_name"].startswith("QR_LIMIT")
    assert ("expire_seconds" in data) is not permanent
    if not permanent:
        assert data["expire_seconds"] == 600
    info = decode_ticket(data["ticket"])
    assert info is not None
    assert info.url == data["url"]
    assert info.expire_seconds == (0 if permanent else 600)
    assert abs(info.created_at - emu.now()) < 5
    raw = base64.b64decode(data["ticket"])
    assert raw[:2] == b"\x81\x01"
    assert raw[4] == len(raw) - 12
    assert raw[5:12] == bytes(7)


def test_showqrcode_serves_jpeg_of_the_url(http: httpx.Client, token: str) -> None:
    data = create(http, token, temp(5))
    response = http.get("/cgi-bin/showqrcode", params={"ticket": data["ticket"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpg"
    assert response.content[:3] == b"\xff\xd8\xff"
    assert decoded(response.content) == [data["url"]]


def test_showqrcode_unknown_ticket_is_json_as_text_plain(http: httpx.Client, token: str) -> None:
    for params in ({"ticket": "gQH47joAAAAAAAAAASxodHRw"}, {}):
        response = http.get("/cgi-bin/showqrcode", params=params)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert response.json()["errcode"] != 0


def test_showqrcode_needs_the_ticket_encoded_exactly_once(http: httpx.Client, token: str) -> None:
    ticket = ""
    for _ in range(200):
        ticket = create(http, token, temp(9))["ticket"]
        if "+" in ticket or "/" in ticket:
            break
    else:
        pytest.skip("no ticket with + or / came up")
    once = quote(ticket, safe="")
    assert http.get(f"/cgi-bin/showqrcode?ticket={once}").headers["content-type"] == "image/jpg"
    twice = quote(once, safe="")
    bad = http.get(f"/cgi-bin/showqrcode?ticket={twice}")
    assert bad.headers["content-type"].startswith("text/plain")


def test_temporary_code_expires_by_the_clock(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    data = create(http, token, temp(11, expire=60))
    emu.advance(50)  # real time passes too: leave a margin for a loaded machine
    assert (
        http.get("/cgi-bin/showqrcode", params={"ticket": data["ticket"]}).headers["content-type"]
        == "image/jpg"
    )
    assert emu.scan("o-before", ticket=data["ticket"]).outcome == "subscribe"
    emu.advance(11)
    expired = http.get("/cgi-bin/showqrcode", params={"ticket": data["ticket"]})
    assert expired.headers["content-type"].startswith("text/plain")
    result = emu.scan("o-after", ticket=data["ticket"])
    assert result.outcome == "expired_code"
    assert result.pushes == ()
    assert [f.openid for f in emu.followers()] == ["o-before"]


def test_default_expiry_is_60_seconds(http: httpx.Client, token: str) -> None:
    assert create(http, token, temp(3, expire=None))["expire_seconds"] == 60


def test_permanent_scene_again_gives_new_ticket_same_url(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    emu.configure(permanent_limit=2)
    first = create(http, token, perm(1))
    again = create(http, token, perm(1))
    assert again["ticket"] != first["ticket"]
    assert again["url"] == first["url"]
    assert "errcode" not in create(http, token, perm("one"))
    # both tickets of scene 1 work, re-creating did not count twice
    assert create(http, token, perm(1))["url"] == first["url"]
    assert create(http, token, perm(2))["errcode"] == 45029
    assert create(http, token, perm("two"))["errcode"] == 45029
    for ticket in (first["ticket"], again["ticket"]):
        image = http.get("/cgi-bin/showqrcode", params={"ticket": ticket})
        assert decoded(image.content) == [first["url"]]
    # temporary codes are not limited by it
    assert "ticket" in create(http, token, temp(2))


def test_permanent_codes_never_expire(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    data = create(http, token, perm("forever"))
    emu.advance(400 * 86_400)
    assert emu.scan("o1", url=data["url"]).outcome == "subscribe"


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        (b"", 44002),
        (b"not json", 47001),
        (b"[1, 2]", 47001),
        ({"action_name": "QR_FOO", "action_info": {"scene": {"scene_id": 1}}}, 40053),
        ({"action_name": "QR_SCENE", "expire_seconds": 60}, 40053),
        (temp(0), 40053),
        (temp(-5), 40053),
        (temp(""), 40053),
        (temp("x" * 65), 40053),
        (temp(1, expire=0), 40053),
        (temp(1, expire=2_592_001), 40053),
        (perm(0), 40053),
        (perm(100_001), 40053),
        (perm("y" * 65), 40053),
    ],
)
def test_create_validation(
    http: httpx.Client, token: str, body: dict[str, Any] | bytes, errcode: int
) -> None:
    assert create(http, token, body)["errcode"] == errcode


@pytest.mark.parametrize(
    "body",
    [temp(1, expire=2_592_000), temp("x" * 64), perm(100_000), perm("y" * 64), temp(2**32 - 1)],
)
def test_create_accepts_the_bounds(http: httpx.Client, token: str, body: dict[str, Any]) -> None:
    assert "ticket" in create(http, token, body)


def test_temporary_scene_id_beyond_32_bits_comes_back_as_zero(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    data = create(http, token, temp(2**32))
    assert "ticket" in data
    assert emu.scan("o9", ticket=data["ticket"]).scene == "0"


@pytest.mark.parametrize("name", ["QR_SCENE", "QR_LIMIT_STR_SCENE"])
def test_missing_scene_wrapper_succeeds_with_scene_zero(
    emu: RunningEmulator, http: httpx.Client, token: str, name: str
) -> None:
    body = {"action_name": name, "expire_seconds": 300, "action_info": {"scene_id": 1234}}
    data = create(http, token, body)
    assert "ticket" in data
    result = emu.scan("o-wrapper", ticket=data["ticket"])
    assert result.scene == "0"
    assert "<EventKey><![CDATA[qrscene_0]]></EventKey>" in result.pushes[0].xml


@pytest.mark.parametrize(
    ("token", "errcode"), [(None, 41001), ("bad token", 40014), ("12_" + "Z" * 120, 40001)]
)
def test_create_token_errors(http: httpx.Client, token: str | None, errcode: int) -> None:
    params = {} if token is None else {"access_token": token}
    response = http.post("/cgi-bin/qrcode/create", params=params, json=temp(1))
    assert response.json()["errcode"] == errcode


def test_create_with_expired_token_is_42001(emu: RunningEmulator, http: httpx.Client) -> None:
    emu.configure(token_expires_in=10)
    token = get_token(http)
    emu.advance(11)
    assert create(http, token, temp(1))["errcode"] == 42001


def test_daily_quota(emu: RunningEmulator, http: httpx.Client, token: str) -> None:
    emu.configure(daily_quota=3)
    for scene in (1, 2, 3):
        assert "ticket" in create(http, token, temp(scene))
    assert create(http, token, temp(4))["errcode"] == 45009
    # other paths have their own count
    assert "tags" in http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
    # clear_quota resets it
    appid = emu.config.accounts[0].appid
    cleared = http.post(
        "/cgi-bin/clear_quota", params={"access_token": token}, json={"appid": appid}
    ).json()
    assert cleared["errcode"] == 0
    for scene in (4, 5, 6):
        assert "ticket" in create(http, token, temp(scene))
    assert create(http, token, temp(7))["errcode"] == 45009
    emu.advance(86_400)
    assert "ticket" in create(http, get_token(http), temp(8))


def test_codes_are_listed_in_the_control_api(
    emu: RunningEmulator, http: httpx.Client, token: str
) -> None:
    a = create(http, token, temp(1))
    b = create(http, token, perm("p"))
    codes = {c["url"]: c for c in http.get("/_emulator/codes").json()["codes"]}
    assert set(codes) == {a["url"], b["url"]}
    assert codes[b["url"]]["expires_at"] is None
    assert codes[a["url"]]["tickets"] == [a["ticket"]]
