"""--state: accounts, tokens, tickets and followers survive a restart (JSON and SQLite)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from wxqr.emulator.testing import EmulatorAccount, running_emulator

from .conftest import get_token
from .test_qrcode import create, perm, temp


@pytest.mark.parametrize("name", ["state.json", "state.sqlite3"])
def test_state_survives_a_restart(tmp_path: Path, name: str) -> None:
    path = str(tmp_path / name)
    account = EmulatorAccount(appid="wxpersist00000001", secret="ps", token="pt")
    with running_emulator(accounts=[account], state_path=path) as emu:
        with httpx.Client(base_url=emu.base_url) as http:
            token = get_token(http, account.appid, "ps")
            permanent = create(http, token, perm("poster"))
            temporary = create(http, token, temp(5, expire=3600))
            tag = http.post(
                "/cgi-bin/tags/create",
                params={"access_token": token},
                json={"tag": {"name": "vip"}},
            ).json()["tag"]
        emu.scan("o1", url=permanent["url"])
        emu.follow("o2")
        emu.unsubscribe("o2")
        emu.set_push_url(account.appid, "http://127.0.0.1:9/nowhere")
        emu.advance(600)
    assert Path(path).exists()

    with running_emulator(accounts=[account], state_path=path) as emu:
        with httpx.Client(base_url=emu.base_url) as http:
            # the old token is still the current one
            tags = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
            assert {"id": tag["id"], "name": "vip", "count": 0} in tags["tags"]
            for ticket in (permanent["ticket"], temporary["ticket"]):
                image = http.get("/cgi-bin/showqrcode", params={"ticket": ticket})
                assert image.headers["content-type"] == "image/jpg"
            again = create(http, token, perm("poster"))
            assert again["url"] == permanent["url"]
            info = http.get(
                "/cgi-bin/user/info", params={"access_token": token, "openid": "o1"}
            ).json()
            assert (info["subscribe"], info["qr_scene_str"]) == (1, "poster")
        followers = emu.followers(include_former=True)
        assert {(f.openid, f.subscribed) for f in followers} == {("o1", True), ("o2", False)}
        assert emu.scan("o1", ticket=temporary["ticket"]).outcome == "scan"
        # the clock offset was kept: 3000 more seconds expire the one-hour code
        emu.advance(3000)
        assert emu.scan("o3", ticket=temporary["ticket"]).outcome == "expired_code"
        accounts = httpx.get(emu.base_url + "/_emulator/accounts").json()["accounts"]
        assert accounts[0]["push_url"] == "http://127.0.0.1:9/nowhere"


def test_without_state_nothing_survives(tmp_path: Path) -> None:
    with running_emulator() as emu:
        emu.follow("o1")
    with running_emulator() as emu:
        assert emu.followers() == []
