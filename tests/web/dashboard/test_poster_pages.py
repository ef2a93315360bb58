"""The dashboard's poster pages: upload a template (multipart, artwork larger than the
ordinary form bound), edit its layout with a live preview of the draft, save, remove."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image

from tests.support.artwork import busy_artwork, plain_image
from tests.support.qr import decode_png
from tests.support.stack import Stack
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec

PASSWORD = "correct horse battery"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def test_upload_edit_preview_and_remove_a_template(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    artwork = busy_artwork()
    assert len(artwork) > stack.ws.settings.api_max_body_bytes // 2
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        listing = client.get("/dashboard/posters")
        assert listing.status_code == 200
        assert "/dashboard/posters" in client.get("/dashboard/").text  # in the menu
        csrf = _csrf(listing.text)
        small = client.post(
            "/dashboard/posters",
            data={"csrf": csrf, "name": "Tiny", "code_x": "0", "code_y": "0", "code_size": "120"},
            files={"artwork": ("a.jpg", artwork, "image/jpeg")},
        )
        assert small.status_code == 422
        assert "per module" in small.text, re.findall(r"class=\"error\"[^<]*", small.text)
        made = client.post(
            "/dashboard/posters",
            data={
                "csrf": csrf,
                "name": "Spring",
                "code_x": "790",
                "code_y": "1700",
                "code_size": "900",
            },
            files={"artwork": ("a.jpg", artwork, "image/jpeg")},
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        editor = client.get(made.headers["location"])
        assert editor.status_code == 200
        assert 'id="poster-preview"' in editor.text
        assert "/static/posters.js" in editor.text
        template_id = int(made.headers["location"].rsplit("/", 1)[1])

        draft = {
            "csrf": csrf,
            "code_x": "100",
            "code_y": "100",
            "code_size": "1000",
            "code_border": "4",
            "code_dark": "#000000",
            "code_light": "#ffffff",
            "code_error": "M",
            "caption_0_text": "{channel_name} 欢迎你",
            "caption_0_x": "100",
            "caption_0_y": "1300",
            "caption_0_width": "2000",
            "caption_0_font_size": "120",
            "caption_0_colour": "#ffffff",
            "caption_0_align": "center",
        }
        preview = client.post(f"/dashboard/posters/{template_id}/preview", data=draft)
        assert preview.status_code == 200, preview.text
        assert Image.open(io.BytesIO(preview.content)).width == 600
        bad = client.post(
            f"/dashboard/posters/{template_id}/preview", data={**draft, "code_size": "50"}
        )
        assert bad.status_code == 422
        assert "per module" in bad.text
        assert stack.ws.posters.get_template(template_id).layout.code.x == 790  # not saved

        saved = client.post(f"/dashboard/posters/{template_id}", data=draft)
        assert saved.status_code == 200
        layout = stack.ws.posters.get_template(template_id).layout
        assert (layout.code.x, layout.code.size) == (100, 1000)
        assert layout.captions[0].text == "{channel_name} 欢迎你"
        assert client.get(f"/dashboard/posters/{template_id}/preview").status_code == 200

        forged = client.post(f"/dashboard/posters/{template_id}/remove", data={"csrf": "x"})
        assert forged.status_code == 403
        removed = client.post(
            f"/dashboard/posters/{template_id}/remove",
            data={"csrf": csrf},
            follow_redirects=False,
        )
        assert removed.status_code == 303
        assert stack.ws.posters.list_templates(stack.account.id) == []


def test_code_style_and_logo_from_the_dashboard(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        csrf = _csrf(client.get("/dashboard/posters").text)
        logo = client.post(
            "/dashboard/code-logo",
            data={"csrf": csrf},
            files={"logo": ("l.png", plain_image((80, 80)), "image/png")},
            follow_redirects=False,
        )
        assert logo.status_code == 303, logo.text
        style = {
            "csrf": csrf,
            "dark": "#0d47a1",
            "light": "#ffffff",
            "error": "q",
            "logo": "1",
            "size": "520",
            "border": "3",
            "group": "",
        }
        saved = client.post("/dashboard/code-style", data=style, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        refused = client.post("/dashboard/code-style", data={**style, "dark": "#f0f0f0"})
        assert refused.status_code == 422
        assert "contrast" in refused.text
    account = stack.account
    stored = stack.ws.code_styles.styles(account.id)[None]
    assert (stored.dark, stored.size, stored.border, stored.logo) == ("#0d47a1", 520, 3, True)
    created = stack.ws.channel_codes.create(account.id, NewChannel(name="Styled"), CodeSpec())
    assert created.code is not None
    image = stack.ws.code_styles.styled_image(created.channel.id)
    assert decode_png(image.content) == created.code.url
    assert Image.open(io.BytesIO(image.content)).size == (520, 520)
