"""Styled codes through the REST API: logos, saved styles, a channel's styled image —
each image decoded back to the channel's url (zxing-cpp)."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tests.support.artwork import plain_image
from tests.support.qr import decode_png, decode_svg
from tests.support.stack import APPID, Stack

PROBLEM = "application/problem+json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_logos_and_saved_styles_shape_a_channels_code(stack: Stack) -> None:
    with stack.client() as client:
        plain = client.post(
            "/api/v1/channels", json={"name": "Plain", "group": "vip", "code": {}}
        ).json()
        other = client.post("/api/v1/channels", json={"name": "Other", "code": {}}).json()
        url = plain["code"]["url"]
        styled = f"/api/v1/channels/{plain['id']}/styled-image"

        default = client.get(styled)  # nothing saved: the plain defaults
        assert default.status_code == 200, default.text
        assert decode_png(default.content) == url

        logo = client.put(
            f"/api/v1/accounts/{APPID}/logo", json={"logo": _b64(plain_image((120, 120)))}
        )
        assert logo.json() == {"content_type": "image/png"}
        saved = client.put(
            "/api/v1/code-styles",
            json={"style": {"dark": "#0a3d62", "size": 600, "logo": True, "border": 2}},
        )
        assert saved.status_code == 200, saved.text
        group = client.put(
            "/api/v1/code-styles",
            json={"group": "vip", "style": {"dark": "#7b1fa2", "size": 500, "logo": True}},
        )
        assert group.status_code == 200, group.text
        listed = client.get("/api/v1/code-styles").json()
        assert listed["account"]["dark"] == "#0a3d62"
        assert listed["groups"]["vip"]["size"] == 500

        vip = client.get(styled)  # the group's style, the account's logo
        image = Image.open(io.BytesIO(vip.content)).convert("RGB")
        assert image.size == (500, 500)
        assert (123, 31, 162) in {c for _, c in image.getcolors(1 << 16) or []}
        # The logo is drawn in the middle (its colour is there), and the code still scans.
        assert image.getpixel((250, 250)) == (245, 230, 200)
        assert decode_png(vip.content) == url

        account_wide = client.get(f"/api/v1/channels/{other['id']}/styled-image")
        assert Image.open(io.BytesIO(account_wide.content)).size == (600, 600)
        assert decode_png(account_wide.content) == other["code"]["url"]

        own = client.put(
            f"/api/v1/channels/{other['id']}/logo",
            json={"logo": _b64(plain_image((64, 64), "JPEG", "#00ff00"))},
        )
        assert own.json() == {"content_type": "image/jpeg"}
        green = client.get(f"/api/v1/channels/{other['id']}/styled-image", params={"size": 600})
        r, g, b = Image.open(io.BytesIO(green.content)).convert("RGB").getpixel((300, 300))
        assert (r < 60, g > 200, b < 60) == (True, True, True)
        svg = client.get(
            f"/api/v1/channels/{other['id']}/styled-image", params={"format": "svg", "logo": False}
        )
        assert decode_svg(svg.content) == other["code"]["url"]

        assert client.delete(f"/api/v1/channels/{other['id']}/logo").json() == {"removed": True}
        assert client.delete(f"/api/v1/accounts/{APPID}/logo").json() == {"removed": True}
        no_logo = client.get(f"/api/v1/channels/{other['id']}/styled-image")
        assert no_logo.status_code == 404
        assert "no logo" in no_logo.json()["detail"]
        removed = client.delete("/api/v1/code-styles", params={"group": "vip"})
        assert removed.json() == {"removed": True}


def test_styles_that_would_not_scan_are_refused(stack: Stack) -> None:
    with stack.client() as client:
        channel = client.post("/api/v1/channels", json={"name": "Rules", "code": {}}).json()
        styled = f"/api/v1/channels/{channel['id']}/styled-image"
        cases = [
            ({"dark": "#ffffff", "light": "#000000"}, "inverted"),
            ({"dark": "#dddddd"}, "contrast"),
        ]
        for style, words in cases:
            saved = client.put("/api/v1/code-styles", json={"style": style})
            assert saved.status_code == 422, saved.text
            assert words in saved.json()["detail"]
            image = client.get(styled, params=style)
            assert image.status_code == 422
            assert image.headers["content-type"] == PROBLEM
        bomb_like = client.put(
            f"/api/v1/accounts/{APPID}/logo", json={"logo": _b64(plain_image((2000, 2000)))}
        )
        assert bomb_like.status_code == 422
        assert "pixels" in bomb_like.json()["detail"]
        gif = client.put(
            f"/api/v1/accounts/{APPID}/logo", json={"logo": _b64(plain_image((64, 64), "GIF"))}
        )
        assert gif.status_code == 422
