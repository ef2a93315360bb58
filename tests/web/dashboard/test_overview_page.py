"""The overview page over HTTP: KPI cards, presets kept in the URL, the charts' data and
tables, orphan scans made channels, today's figures for the live refresh, bad input."""

from __future__ import annotations

import json
import re
import time

import httpx

from tests.support import pushes
from tests.support.stack import APPID, TOKEN, Stack, openids
from wxqr.protocol import AccountKeys, EncryptMode

PASSWORD = "correct horse battery"


def _log_in(stack: Stack, client: httpx.Client) -> httpx.Client:
    stack.ws.admin.set_password(PASSWORD)
    assert client.post("/dashboard/login", data={"password": PASSWORD}).status_code == 303
    return client


def test_overview_shows_the_range_its_kpis_and_charts(stack: Stack) -> None:
    with stack.client() as api:
        made = api.post(
            "/api/v1/channels", json={"name": "Poster A", "group": "posters", "code": {}}
        )
        made.raise_for_status()
        channel_id = made.json()["id"]
    code = stack.ws.codes.current_code(channel_id)
    assert code is not None
    assert code.ticket is not None
    for user in openids(3):
        stack.emulator.scan(user, ticket=code.ticket)

    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        _log_in(stack, client)
        page = client.get("/dashboard/", params={"range": "30d", "metric": "new_followers"})
        assert page.status_code == 200
        html = page.text
        assert 'aria-current="page"' in html
        assert re.search(r'data-range="30d"\s+aria-current="page"', html)
        # Each preset link keeps the metric: a view can be shared by its address.
        assert 'href="/dashboard/?range=7d&amp;metric=new_followers"' in html
        scans_card = re.search(r'data-metric="scans">.*?</article>', html, re.S)
        assert scans_card is not None
        assert '<p class="kpi-value">3</p>' in scans_card[0]
        data = json.loads(re.search(r'id="overview-data">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
        assert data["metric"] == "new_followers"
        assert sum(data["values"]) == 3
        assert data["channels"] == ["Poster A"]
        assert data["channelValues"] == [3]
        assert len(data["labels"]) == 30
        assert 'id="trend-table"' in html
        assert 'id="top-table"' in html
        assert "posters" in html  # the group breakdown

        today = client.get("/dashboard/today.json").json()
        assert today["metrics"]["scans"] == 3
        assert today["metrics"]["new_followers"] == 3

        chinese = client.get("/dashboard/", headers={"Accept-Language": "zh-CN"})
        assert "概览" in chinese.text
        assert "近7天" in chinese.text
        assert "上一周期" in chinese.text


def test_an_orphan_scene_becomes_a_channel_in_one_click(stack: Stack) -> None:
    # A signed push for a scene no channel has (a code made elsewhere): an orphan scan.
    keys = AccountKeys(APPID, TOKEN, None, EncryptMode.PLAIN)
    xml = pushes.subscribe_scan(openids(1)[0], "poster-77", int(time.time()))
    sealed = pushes.seal(xml, keys)
    with httpx.Client(base_url=stack.base_url) as wechat:
        answer = wechat.post(
            f"/wechat/{APPID}", params=sealed.query.to_params(), content=sealed.body
        )
        assert answer.status_code == 200
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        _log_in(stack, client)
        html = client.get("/dashboard/", params={"range": "today"}).text
        assert "<code>poster-77</code>" in html
        link = re.search(r'href="(/dashboard/channels/new\?scene=poster-77[^"]*)"', html)
        assert link is not None
        form = client.get(link[1].replace("&amp;", "&")).text
        assert 'value="poster-77"' in form
        assert re.search(r'<option value="str"\s+selected>', form)


def test_bad_overview_addresses_get_a_page_not_a_500(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        _log_in(stack, client)
        for params in (
            {"range": "fortnight"},
            {"metric": "likes"},
            {"top": "0"},
            {"from": "2024-13-01"},
            {"from": "2024-05-02", "to": "2024-05-01"},
        ):
            response = client.get("/dashboard/", params=params)
            assert response.status_code == 422, (params, response.status_code)
            assert response.headers["content-type"].startswith("text/html")
    with httpx.Client(base_url=stack.base_url) as anonymous:
        assert anonymous.get("/dashboard/today.json").status_code == 401


def test_overview_compares_with_the_same_weekdays_last_year_when_asked(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        _log_in(stack, client)
        page = client.get(
            "/dashboard/",
            params={"from": "2024-05-06", "to": "2024-05-12", "compare": "previous_year"},
        )
        assert page.status_code == 200
        html = page.text
        assert re.search(r'<option value="previous_year"\s+selected>', html)
        # The window line names last year's dates: 364 days earlier, the same weekdays.
        window = re.search(r'id="window">(.*?)</p>', html, re.S)
        assert window is not None
        assert "2023" in window[1]
        # The preset links keep the choice; the default needs no parameter.
        assert "&amp;compare=previous_year" in html
        data = json.loads(re.search(r'id="overview-data">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
        assert data["previousLabel"] == "Same weekdays last year"
        assert client.get("/dashboard/", params={"compare": "nonsense"}).status_code == 422
