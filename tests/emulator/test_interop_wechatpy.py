"""wechatpy, an independent SDK, against the emulator over real HTTP.

wechatpy lets an app set ``API_BASE_URL`` (per client and per API group); its token URL
and showqrcode URL are fixed strings, so the test client overrides just those two.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests
import zxingcpp
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from wechatpy import WeChatClient, parse_message  # type: ignore[import-untyped]
from wechatpy.crypto import WeChatCrypto  # type: ignore[import-untyped]
from wechatpy.events import ScanEvent, SubscribeScanEvent  # type: ignore[import-untyped]
from wechatpy.replies import TextReply  # type: ignore[import-untyped]
from wechatpy.utils import check_signature  # type: ignore[import-untyped]

from wxqr.emulator.clock import china_midnight
from wxqr.emulator.testing import EmulatorAccount, RunningEmulator, running_emulator, serve_app
from wxqr.protocol import TextReply as WxqrTextReply

APPID = "wx1111222233334444"
SECRET = "interop-secret"
TOKEN = "interop-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
ACCOUNT = EmulatorAccount(
    appid=APPID,
    secret=SECRET,
    token=TOKEN,
    aes_key=AES_KEY,
    mode="safe",
    original_id="gh_aabbccddeeff",
)


class EmulatorWeChatClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's client with every base URL pointed at the emulator."""

    def __init__(self, base_url: str, appid: str, secret: str) -> None:
        super().__init__(appid, secret)
        self.emulator_base = base_url
        self.API_BASE_URL = base_url + "/cgi-bin/"
        self.datacube.API_BASE_URL = base_url + "/datacube/"
        self._http.trust_env = False

    def fetch_access_token(self) -> Any:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        return self._fetch_access_token(url=self.emulator_base + "/cgi-bin/token", params=params)

    def show_url(self, ticket: str) -> str:
        url: str = self.qrcode.get_url(ticket)
        return url.replace("https://mp.weixin.qq.com", self.emulator_base)


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with running_emulator(accounts=[ACCOUNT], push_timeout=2.0) as emulator:
        yield emulator


@pytest.fixture
def client(emu: RunningEmulator) -> EmulatorWeChatClient:
    emu.reset()
    return EmulatorWeChatClient(emu.base_url, APPID, SECRET)


QR_BODIES: list[dict[str, Any]] = [
    {
        "expire_seconds": 1800,
        "action_name": "QR_SCENE",
        "action_info": {"scene": {"scene_id": 123}},
    },
    {
        "expire_seconds": 600,
        "action_name": "QR_STR_SCENE",
        "action_info": {"scene": {"scene_str": "interop"}},
    },
    {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 9}}},
    {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "poster/1"}}},
]


def test_token_and_four_qr_kinds_and_images(
    emu: RunningEmulator, client: EmulatorWeChatClient
) -> None:
    for body in QR_BODIES:
        result = client.qrcode.create(body)
        assert result["url"].startswith("http://weixin.qq.com/q/")
        assert ("expire_seconds" in result) is (not body["action_name"].startswith("QR_LIMIT"))
        image = requests.get(client.show_url(result["ticket"]), timeout=10)
        assert image.headers["Content-Type"] == "image/jpg"
        with Image.open(io.BytesIO(image.content)) as picture:
            assert [r.text for r in zxingcpp.read_barcodes(picture)] == [result["url"]]
    assert emu.calls("/cgi-bin/token") == 1
    assert emu.calls("/cgi-bin/qrcode/create") == 4


def test_wechatpy_refreshes_on_the_emulators_token_errors(
    emu: RunningEmulator, client: EmulatorWeChatClient
) -> None:
    client.tag.get()
    emu.advance(7201)  # wechatpy still believes its token fresh; the emulator says 42001
    assert client.tag.create("after-expiry")["name"] == "after-expiry"
    assert emu.calls("/cgi-bin/token") == 2


def test_user_tags_and_summary(emu: RunningEmulator, client: EmulatorWeChatClient) -> None:
    emu.set_clock(china_midnight(date(2026, 5, 4)) + 600)
    code = client.qrcode.create(QR_BODIES[2])
    emu.scan("o-wechatpy", url=code["url"])
    user = client.user.get("o-wechatpy")
    assert (user["subscribe"], user["qr_scene"], user["subscribe_scene"]) == (
        1,
        9,
        "ADD_SCENE_QR_CODE",
    )
    tag = client.tag.create("interop")
    client.tag.tag_user(tag["id"], ["o-wechatpy"])
    assert client.user.get("o-wechatpy")["tagid_list"] == [tag["id"]]
    emu.advance(86_400)
    client.fetch_access_token()
    rows = client.datacube.get_user_summary(date(2026, 5, 4), date(2026, 5, 4))
    assert rows == [{"ref_date": "2026-05-04", "user_source": 30, "new_user": 1, "cancel_user": 0}]


class WechatpyServer:
    """The account's server written with wechatpy: verifies, decrypts and replies."""

    def __init__(self) -> None:
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
        self.messages: list[Any] = []

    async def handle(self, request: Request) -> Response:
        q = request.query_params
        check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
        xml = self.crypto.decrypt_message(
            await request.body(), q["msg_signature"], q["timestamp"], q["nonce"]
        )
        message = parse_message(xml)
        self.messages.append(message)
        reply = TextReply(message=message, content=f"scene {message.scene_id}").render()
        return PlainTextResponse(self.crypto.encrypt_message(reply, q["nonce"], q["timestamp"]))


def test_encrypted_push_verified_and_decrypted_by_wechatpy(
    emu: RunningEmulator, client: EmulatorWeChatClient
) -> None:
    server = WechatpyServer()
    app = Starlette(routes=[Route("/wx", server.handle, methods=["POST"])])
    with serve_app(app) as base:
        emu.set_push_url(APPID, base + "/wx")
        code = client.qrcode.create(QR_BODIES[1])
        first = emu.scan("o-enc", ticket=code["ticket"])
        second = emu.scan("o-enc", url=code["url"])
    assert [type(m) for m in server.messages] == [SubscribeScanEvent, ScanEvent]
    subscribe, scan = server.messages
    assert subscribe.scene_id == "interop"
    assert subscribe.ticket == code["ticket"]
    assert subscribe.source == "o-enc"
    assert subscribe.target == "gh_aabbccddeeff"
    assert scan.scene_id == "interop"
    # the emulator decrypted wechatpy's encrypted reply into what the user sees
    assert first.reply is not None
    assert second.reply is not None
    assert first.reply == second.reply == WxqrTextReply("scene interop")
    assert first.error is None
