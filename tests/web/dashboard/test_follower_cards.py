"""The follower cards over HTTP: on a channel page the retention of the followers it
brought (D1/D7/D30, the curve's data and its table), on the overview the audience
(cumulative followers), in English and Chinese. Pushes arrive signed, with the
CreateTimes of weeks ago."""

from __future__ import annotations

import json
import re
import time

import httpx

from tests.support import pushes
from tests.support.stack import APPID, TOKEN, Stack, openids
from wxqr.protocol import AccountKeys, EncryptMode

PASSWORD = "correct horse battery"
DAY = 86_400


def _push(stack: Stack, xml: str) -> None:
    sealed = pushes.seal(xml, AccountKeys(APPID, TOKEN, None, EncryptMode.PLAIN))
    with httpx.Client(base_url=stack.base_url) as wechat:
        answer = wechat.post(
            f"/wechat/{APPID}", params=sealed.query.to_params(), content=sealed.body
        )
        assert answer.status_code == 200


def _json(html: str, element: str) -> dict[str, list[object]]:
    found = re.search(rf'id="{element}">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, list[object]] = json.loads(found[1])
    return data


def test_channel_page_shows_the_retention_of_its_followers(stack: Stack) -> None:
    with stack.client() as api:
        made = api.post("/api/v1/channels", json={"name": "Poster R", "code": {}})
        made.raise_for_status()
        channel_id = made.json()["id"]
    code = stack.ws.codes.current_code(channel_id)
    assert code is not None
    now = int(time.time())
    first = now - 40 * DAY
    users = openids(4)
    for user in users:
        _push(stack, pushes.subscribe_scan(user, code.scene, first))
    _push(stack, pushes.unsubscribe(users[0], first + 3 * DAY))  # gone by D7
    _push(stack, pushes.unsubscribe(users[1], first + DAY // 2))  # gone by D1

    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        stack.ws.admin.set_password(PASSWORD)
        assert client.post("/dashboard/login", data={"password": PASSWORD}).status_code == 303
        html = client.get(f"/dashboard/channels/{channel_id}").text
        keys = re.search(r'id="retention-keys">(.*?)</div>\s*<div class="chart-box"', html, re.S)
        assert keys is not None
        assert re.findall(r'kpi-value">([^<]*)<', keys[1]) == ["75.0%", "50.0%", "50.0%"]
        data = _json(html, "retention-data")
        assert data["labels"][:3] == ["D1", "D7", "D30"]
        assert data["values"][:3] == [75.0, 50.0, 50.0]
        table = re.search(r'id="retention-table">(.*?)</table>', html, re.S)
        assert table is not None
        assert "<td>3</td><td>4</td><td>75.0%</td>" in table[1]

        chinese = client.get(
            f"/dashboard/channels/{channel_id}", headers={"Accept-Language": "zh-CN"}
        ).text
        assert "本渠道带来的关注者留存" in chinese
        assert "第 7 天" in chinese

        overview = client.get("/dashboard/", params={"range": "30d"}).text
        audience = _json(overview, "audience-data")
        assert audience["values"][0] == 2  # u2, u3 still following 30 days ago
        assert len(audience["values"]) == 30
        assert re.search(r'id="audience-now">2<', overview)
        assert 'id="audience-table"' in overview
        assert "关注用户" in client.get("/dashboard/", headers={"Accept-Language": "zh-CN"}).text


def test_a_channel_without_followers_says_so(stack: Stack) -> None:
    with stack.client() as api:
        made = api.post("/api/v1/channels", json={"name": "Quiet", "code": {}})
        made.raise_for_status()
        channel_id = made.json()["id"]
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        stack.ws.admin.set_password(PASSWORD)
        assert client.post("/dashboard/login", data={"password": PASSWORD}).status_code == 303
        html = client.get(f"/dashboard/channels/{channel_id}").text
        assert 'id="no-retention"' in html
        assert 'id="retention-chart"' not in html
