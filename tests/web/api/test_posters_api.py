"""Poster templates and channels' posters through the REST API (a served stack)."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from PIL import Image

from tests.support.artwork import busy_artwork, plain_image, sample_layout
from tests.support.qr import decode_png
from tests.support.stack import Stack

PROBLEM = "application/problem+json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_templates_and_posters(stack: Stack) -> None:
    with stack.client() as client:
        made = client.post(
            "/api/v1/poster-templates",
            json={"name": "Spring", "artwork": _b64(busy_artwork()), "layout": sample_layout()},
        )
        assert made.status_code == 201, made.text
        template = made.json()
        assert made.headers["location"] == f"/api/v1/poster-templates/{template['id']}"
        assert (template["width"], template["height"]) == (2480, 3508)
        assert client.get("/api/v1/poster-templates").json()[0]["name"] == "Spring"

        channel = client.post(
            "/api/v1/channels", json={"name": "门店 1", "group": "春季", "code": {}}
        ).json()
        url = channel["code"]["url"]
        for fmt, kind in (("png", "image/png"), ("jpeg", "image/jpeg")):
            poster = client.get(
                f"/api/v1/channels/{channel['id']}/poster",
                params={"template": "Spring", "format": fmt},
            )
            assert poster.status_code == 200, poster.text
            assert poster.headers["content-type"] == kind
            assert decode_png(poster.content) == url
        pdf = client.get(f"/api/v1/channels/{channel['id']}/poster", params={"format": "pdf"})
        assert pdf.content.startswith(b"%PDF")

        draft = {"code": {"x": 0, "y": 0, "size": 1200}}
        preview = client.post(
            f"/api/v1/poster-templates/{template['id']}/preview",
            json={"layout": draft, "width": 300},
        )
        assert preview.status_code == 200, preview.text
        assert Image.open(io.BytesIO(preview.content)).width == 300

        patched = client.patch(f"/api/v1/poster-templates/{template['id']}", json={"layout": draft})
        assert patched.json()["layout"]["code"]["size"] == 1200
        assert client.delete(f"/api/v1/poster-templates/{template['id']}").status_code == 200
        gone = client.get(f"/api/v1/channels/{channel['id']}/poster")
        assert gone.status_code == 404
        assert gone.headers["content-type"] == PROBLEM


def test_bad_templates_are_problem_documents(stack: Stack) -> None:
    art = _b64(plain_image((600, 800)))
    cases = [
        ({"name": "A", "artwork": "%%%", "layout": {}}, "base64"),
        ({"name": "A", "artwork": _b64(b"GIF89a"), "layout": {}}, "PNG or JPEG"),
        (
            {"name": "A", "artwork": art, "layout": {"code": {"x": 0, "y": 0, "size": 100}}},
            "per module",
        ),
        (
            {
                "name": "A",
                "artwork": art,
                "layout": {
                    "code": {"x": 0, "y": 0, "size": 400},
                    "captions": [{"text": "{oops}", "x": 0, "y": 0}],
                },
            },
            "placeholder",
        ),
    ]
    with stack.client() as client:
        for body, words in cases:
            response = client.post("/api/v1/poster-templates", json=body)
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == PROBLEM
            assert words in response.json()["detail"]
        preview = client.get("/api/v1/poster-templates/999999/preview")
        assert preview.status_code == 404
        saved = client.get("/api/v1/poster-templates/999999/preview", params={"width": 50})
        assert saved.status_code == 422


def test_a_groups_posters_as_a_zip(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    with stack.client() as client:
        template = client.post(
            "/api/v1/poster-templates",
            json={"name": "Zip", "artwork": _b64(busy_artwork()), "layout": sample_layout(700)},
        ).json()
        urls = {}
        for n in range(2):
            made = client.post(
                "/api/v1/channels", json={"name": f"门店 {n}", "group": "zip", "code": {}}
            ).json()
            urls[made["name"]] = made["code"]["url"]
        temporary = client.post(
            "/api/v1/channels",
            json={
                "name": "临时 1",
                "group": "zip",
                "code": {"kind": "temporary", "expire_seconds": 86400},
            },
        ).json()
        urls[temporary["name"]] = temporary["code"]["url"]
        client.post("/api/v1/channels", json={"name": "Elsewhere", "group": "other", "code": {}})

        path = f"/api/v1/poster-templates/{template['id']}/zip"
        response = client.get(path, params={"group": "zip"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert "attachment" in response.headers["content-disposition"]
        assert response.headers["x-wxqr-files"] == "3"
        assert "stops working on" in response.headers["warning"]
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            names = sorted(archive.namelist())
            assert names == sorted(f"{name}.jpg" for name in urls)
            for name in names:
                assert decode_png(archive.read(name)) == urls[name.removesuffix(".jpg")]

        monkeypatch.setattr("wxqr.web.api.posters.MAX_ZIP_CHANNELS", 2)
        refused = client.get(path, params={"group": "zip"})
        assert refused.status_code == 422
        assert refused.headers["content-type"] == PROBLEM
        assert "at most 2" in refused.json()["detail"]
        empty = client.get(path, params={"group": "nobody"})
        assert empty.status_code == 404
        assert client.get("/api/v1/poster-templates/999999/zip").status_code == 404


def test_a_temporary_codes_poster_carries_a_warning_header(stack: Stack) -> None:
    with stack.client() as client:
        client.post(
            "/api/v1/poster-templates",
            json={"name": "T", "artwork": _b64(busy_artwork()), "layout": sample_layout()},
        )
        channel = client.post(
            "/api/v1/channels",
            json={"name": "临时", "code": {"kind": "temporary", "expire_seconds": 86400}},
        ).json()
        poster = client.get(f"/api/v1/channels/{channel['id']}/poster", params={"format": "jpeg"})
        assert poster.status_code == 200, poster.text
        warning = poster.headers["warning"]
        assert warning.startswith('299 wxqr "')
        assert "stops working on" in warning
        assert "--kind permanent" in warning
        assert decode_png(poster.content) == channel["code"]["url"]
