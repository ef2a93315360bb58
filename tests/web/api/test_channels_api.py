"""Channels and codes through the REST API: CRUD, codes, images, bulk CSV, zip."""

from __future__ import annotations

import io
import socket
import zipfile
from dataclasses import replace

import httpx
from sqlalchemy import Engine

from tests.support.qr import decode_png, decode_svg
from tests.support.stack import Stack, make_workspace
from wxqr.emulator.testing import RunningEmulator, serve_app
from wxqr.web.app import create_app

PROBLEM = "application/problem+json"


def test_channel_crud(stack: Stack) -> None:
    with stack.client() as client:
        created = client.post(
            "/api/v1/channels",
            json={
                "name": "Poster A",
                "group": "posters",
                "tags": ["spring"],
                "payload": {"order": "10086"},
                "reply": {"type": "text", "content": "Welcome from {scene}"},
                "follower_tags": ["poster-fans"],
                "code": {"kind": "permanent"},
            },
        )
        assert created.status_code == 201, created.text
        channel = created.json()
        assert created.headers["location"] == f"/api/v1/channels/{channel['id']}"
        assert channel["code"]["scene"] == 1
        assert channel["code"]["status"] == "active"
        assert channel["code"]["ticket"]
        assert channel["code"]["url"]
        assert channel["reply"] == {"type": "text", "content": "Welcome from {scene}"}
        assert channel["payload"] == {"order": "10086"}

        assert client.get(f"/api/v1/channels/{channel['id']}").json() == channel
        duplicate = client.post("/api/v1/channels", json={"name": "Poster A"})
        assert duplicate.status_code == 409
        assert duplicate.headers["content-type"] == PROBLEM
        assert duplicate.json()["field"] == "name"

        other = client.post("/api/v1/channels", json={"name": "Shop", "group": "shops"}).json()
        assert other["code"] is None
        names = [c["name"] for c in client.get("/api/v1/channels").json()["items"]]
        assert names == ["Poster A", "Shop"]
        group = client.get("/api/v1/channels", params={"group": "shops"}).json()["items"]
        assert [c["id"] for c in group] == [other["id"]]

        patched = client.patch(
            f"/api/v1/channels/{channel['id']}",
            json={"group": None, "reply": {"type": "image", "media_id": "M1"}},
        ).json()
        assert patched["group"] is None
        assert patched["reply"]["media_id"] == "M1"
        assert patched["tags"] == ["spring"]  # fields not sent are kept
        bad_reply = client.patch(
            f"/api/v1/channels/{channel['id']}", json={"reply": {"type": "video"}}
        )
        assert bad_reply.status_code == 422
        assert bad_reply.json()["field"] == "reply"

        archived = client.delete(f"/api/v1/channels/{channel['id']}").json()
        assert archived["status"] == "archived"
        active = client.get("/api/v1/channels", params={"status": "active"}).json()["items"]
        assert [c["id"] for c in active] == [other["id"]]
        restored = client.patch(f"/api/v1/channels/{channel['id']}", json={"status": "active"})
        assert restored.json()["status"] == "active"


def test_codes_and_images(stack: Stack) -> None:
    with stack.client() as client:
        channel = client.post("/api/v1/channels", json={"name": "Shop"}).json()
        no_image = client.get(f"/api/v1/channels/{channel['id']}/image")
        assert no_image.status_code == 404
        assert no_image.headers["content-type"] == PROBLEM

        issued = client.post(
            f"/api/v1/channels/{channel['id']}/codes",
            json={"kind": "temporary", "scene_type": "str", "expire_seconds": 86400},
        )
        assert issued.status_code == 201
        code = issued.json()
        assert code["kind"] == "temporary"
        assert code["expires_at"].endswith("Z")
        assert isinstance(code["scene"], str)
        assert code["expire_seconds"] == 86400
        limit = client.post(
            f"/api/v1/channels/{channel['id']}/codes", json={"kind": "permanent", "scene": 100001}
        )
        assert limit.status_code == 422
        assert limit.json()["field"] == "scene"

        png = client.get(f"/api/v1/codes/{code['id']}/image")
        assert png.headers["content-type"] == "image/png"
        assert decode_png(png.content) == code["url"]
        svg = client.get(f"/api/v1/channels/{channel['id']}/image", params={"format": "svg"})
        assert svg.headers["content-type"] == "image/svg+xml"
        assert decode_svg(svg.content) == code["url"]
        jpg = client.get(f"/api/v1/codes/{code['id']}/image", params={"format": "jpg"})
        assert jpg.headers["content-type"] == "image/jpeg"
        assert decode_png(jpg.content) == code["url"]
        sized = client.get(f"/api/v1/codes/{code['id']}/image", params={"size": 300})
        assert decode_png(sized.content) == code["url"]
        bad = client.get(f"/api/v1/codes/{code['id']}/image", params={"scale": 0})
        assert bad.status_code == 422

        listed = client.get(f"/api/v1/channels/{channel['id']}/codes").json()
        assert [c["id"] for c in listed] == [code["id"]]
        assert client.get(f"/api/v1/codes/{code['id']}").json() == code


def test_bulk_csv_and_zip(stack: Stack) -> None:
    csv_text = "name,group,kind,scene_type\nPoster 1,posters,permanent,id\nPoster 2,posters,,\n"
    with stack.client() as client:
        created = client.post(
            "/api/v1/channels/bulk", content=csv_text, headers={"content-type": "text/csv"}
        )
        assert created.status_code == 201, created.text
        rows = created.json()["created"]
        assert [(r["name"], r["code"]["scene"]) for r in rows] == [("Poster 1", 1), ("Poster 2", 2)]

        uploaded = client.post(
            "/api/v1/channels/bulk",
            files={"file": ("more.csv", b"name,group\nShop 1,shops\n", "text/csv")},
        )
        assert uploaded.status_code == 201
        assert uploaded.json()["created"][0]["code"]["scene"] == 3

        refused = client.post(
            "/api/v1/channels/bulk",
            content="name\nShop 9\nPoster 1\n",
            headers={"content-type": "text/csv"},
        )
        assert refused.status_code == 422
        assert "line 3" in refused.json()["detail"]
        assert len(client.get("/api/v1/channels").json()["items"]) == 3  # nothing added

        archive = client.get("/api/v1/codes/zip", params={"group": "posters"})
        assert archive.headers["content-type"] == "application/zip"
        assert archive.headers["x-wxqr-files"] == "2"
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert zipped.namelist() == ["Poster 1.png", "Poster 2.png"]
            assert decode_png(zipped.read("Poster 1.png")) == rows[0]["code"]["url"]
        svgs = client.get("/api/v1/codes/zip", params={"format": "svg"})
        with zipfile.ZipFile(io.BytesIO(svgs.content)) as zipped:
            assert sorted(zipped.namelist()) == ["Poster 1.svg", "Poster 2.svg", "Shop 1.svg"]


def test_accounts_show_the_permanent_count_and_no_secret(stack: Stack) -> None:
    with stack.client() as client:
        client.post("/api/v1/channels", json={"name": "A", "code": {}})
        response = client.get("/api/v1/accounts")
    account = response.json()[0]
    assert account["permanent_codes"] == 1
    assert account["permanent_limit"] == 100_000
    assert account["has_app_secret"] is True
    assert "emulator-secret" not in response.text
    assert "emulator-token" not in response.text


def test_a_bulk_import_stopped_by_wechat_says_what_was_kept(stack: Stack) -> None:
    with stack.client() as client:
        stack.emulator.set_faults(busy_ratio=1.0, paths=["/cgi-bin/qrcode/create"], seed=3)
        try:
            response = client.post(
                "/api/v1/channels/bulk",
                content="name\nOnly\n",
                headers={"content-type": "text/csv"},
            )
        finally:
            stack.emulator.set_faults()
        assert response.status_code == 502
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["created"] == []
        assert "created 0 of 1" in problem["detail"]
        assert client.get("/api/v1/channels").json()["items"] == []


def test_an_unreachable_wechat_is_a_502_saying_so_and_keeps_nothing(
    engine: Engine, database_url: str, emulator: RunningEmulator
) -> None:
    ws, account = make_workspace(engine, database_url, emulator)
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = replace(ws.settings, wechat_api_base=closed)
    key = ws.api_keys.create("offline").secret
    with (
        serve_app(create_app(settings, engine=engine)) as base_url,
        httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30) as client,
    ):
        refused = client.post("/api/v1/channels", json={"name": "Offline", "code": {}})
        assert refused.status_code == 502
        problem = refused.json()
        assert problem["type"].endswith("#problem-upstream")
        assert problem["detail"].startswith("could not reach WeChat to issue the code")
        assert client.get("/api/v1/channels").json()["items"] == []
    assert [c.name for c in ws.channels.list_channels(account.id)] == []
