"""The REST API of issue 19 §1-2: expiring codes, renewal settings, quotas, and exports
that refuse expired codes (unless forced) and warn about temporary ones."""

from __future__ import annotations

import io
import zipfile

from tests.support.lifecycle_stack import expire_code
from tests.support.stack import APPID, Stack
from wxqr.service.accounts import add_account

PROBLEM = "application/problem+json"


def test_exports_warn_about_temporary_codes_and_refuse_expired_ones(stack: Stack) -> None:
    with stack.client() as client:
        made = client.post(
            "/api/v1/channels",
            json={"name": "Flyer", "code": {"kind": "temporary", "expire_seconds": 86400}},
        ).json()
        image = client.get(f"/api/v1/channels/{made['id']}/image")
        assert image.status_code == 200
        assert image.headers["warning"].startswith('299 wxqr "code ')
        assert "stops working on" in image.headers["warning"]
        assert "permanent" in image.headers["warning"]

        permanent = client.post("/api/v1/channels", json={"name": "Poster", "code": {}}).json()
        plain = client.get(f"/api/v1/codes/{permanent['code']['id']}/image")
        assert plain.status_code == 200
        assert "warning" not in plain.headers

        expire_code(stack.ws.engine, made["code"]["id"])
        for path in (
            f"/api/v1/channels/{made['id']}/image",
            f"/api/v1/codes/{made['code']['id']}/image",
        ):
            refused = client.get(path)
            assert refused.status_code == 409
            assert refused.headers["content-type"] == PROBLEM
            assert "expired on" in refused.json()["detail"]
            assert "force=true" in refused.json()["detail"]
            forced = client.get(path, params={"force": "true"})
            assert forced.status_code == 200
            assert "exported anyway" in forced.headers["warning"]

        archive = client.get("/api/v1/codes/zip")
        assert archive.headers["x-wxqr-expired"] == "1"
        assert "force=true" in archive.headers["warning"]
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert zipped.namelist() == ["Poster.png"]
        everything = client.get("/api/v1/codes/zip", params={"force": "true"})
        with zipfile.ZipFile(io.BytesIO(everything.content)) as zipped:
            assert sorted(zipped.namelist()) == ["Flyer.png", "Poster.png"]

        listed = client.get("/api/v1/codes", params={"expiring_within": "7d"})
        assert listed.status_code == 200
        assert [(c["channel_name"], c["expired"], c["code"]["status"]) for c in listed.json()] == [
            ("Flyer", True, "expired")
        ]
        assert client.get("/api/v1/codes", params={"expiring_within": "7x"}).status_code == 422
        assert client.get("/api/v1/codes").json() == listed.json()  # 7d by default


def test_renewal_settings_and_the_quota(stack: Stack) -> None:
    with stack.client() as client:
        made = client.post(
            "/api/v1/channels", json={"name": "Screen", "code": {"kind": "temporary"}}
        ).json()
        path = f"/api/v1/channels/{made['id']}/renewal"
        assert client.get(path).json() == {
            "channel_id": made["id"],
            "auto_renew": False,
            "lead_seconds": 2 * 86400,
            "lead_is_default": True,
        }
        changed = client.put(path, json={"auto_renew": True, "lead_time": "36h"})
        assert changed.status_code == 200, changed.text
        assert client.get(path).json()["lead_seconds"] == 36 * 3600
        too_long = client.put(path, json={"auto_renew": True, "lead_time": "40d"})
        assert too_long.status_code == 422
        assert too_long.json()["field"] == "lead_time"
        assert (
            client.put("/api/v1/channels/999999/renewal", json={"auto_renew": True}).status_code
            == 404
        )

        add_account(stack.ws.engine, appid="wxstranger00000001", token="stranger-token")
        stranger = stack.ws.api_keys.create("stranger", accounts=["wxstranger00000001"]).secret
        with stack.client(key=stranger) as other:
            assert other.put(path, json={"auto_renew": False}).status_code == 404
            assert other.get(path).status_code == 404
        assert client.get(path).json()["auto_renew"] is True  # the other key changed nothing

        quota = client.get(f"/api/v1/accounts/{APPID}/quota")
        assert quota.status_code == 200
        body = quota.json()
        assert body["cgi_path"] == "/cgi-bin/qrcode/create"
        assert body["source"] == "wechat"
        assert body["daily_limit"] == 100_000
        assert body["wxqr_used"] == 1
        assert body["used"] >= 1  # the session's emulator counts every test's calls
        assert body["remaining"] == body["daily_limit"] - body["used"]
        assert (body["permanent_used"], body["permanent_limit"]) == (0, 100_000)
