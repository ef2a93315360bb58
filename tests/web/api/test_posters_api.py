"""Poster templates and channels' posters through the REST API (a served stack)."""

from __future__ import annotations

import base64
import io

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
