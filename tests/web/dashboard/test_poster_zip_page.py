"""The dashboard's posters page: download a group's posters as a zip (the link sends the
chosen template and group), with a note when some of their codes are temporary."""

from __future__ import annotations

import io
import re
import zipfile

import httpx

from tests.support.artwork import busy_artwork, sample_layout
from tests.support.qr import decode_png
from tests.support.stack import Stack
from wxqr.protocol import QRKind
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec

PASSWORD = "correct horse battery"


def test_download_a_groups_posters(stack: Stack) -> None:
    ws, account = stack.ws, stack.account
    ws.admin.set_password(PASSWORD)
    made = ws.posters.add_template(account.id, "Spring", busy_artwork(), sample_layout(700))
    urls = {}
    for n, spec in enumerate((CodeSpec(), CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=86400))):
        created = ws.channel_codes.create(
            account.id, NewChannel(name=f"门店 {n}", group="spring"), spec
        )
        assert created.code is not None
        urls[f"门店 {n}.jpg"] = created.code.url
    ws.channel_codes.create(account.id, NewChannel(name="Other", group="autumn"), CodeSpec())
    with httpx.Client(base_url=stack.base_url, timeout=120) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        listing = client.get("/dashboard/posters")
        assert listing.status_code == 200
        form = re.search(r'<form method="get" action="([^"]+)" id="posters-zip">', listing.text)
        assert form is not None
        assert f'<option value="{made.id}">Spring</option>' in listing.text
        assert '<option value="spring">spring</option>' in listing.text
        note = re.search(r'id="temporary-note">([^<]+)<', listing.text)
        assert note is not None
        assert "1" in note[1]
        assert "stops working on" in note[1]

        response = client.get(form[1], params={"template": made.id, "group": "spring"})
        assert response.status_code == 200, response.text[:300]
        assert response.headers["content-type"] == "application/zip"
        assert "attachment" in response.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert sorted(archive.namelist()) == sorted(urls)
            for name, url in urls.items():
                assert decode_png(archive.read(name)) == url

        nobody = client.get(form[1], params={"template": made.id, "group": "nobody"})
        assert nobody.status_code == 404
        assert "no active channel" in nobody.text
    with httpx.Client(base_url=stack.base_url, timeout=30) as anonymous:
        refused = anonymous.get(form[1], params={"template": made.id})
        assert refused.status_code == 401
