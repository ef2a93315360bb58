"""The rest of the daily work in the browser: a CSV import with a report per row, the zip
of a group's codes, and the feed of recent scans (polled, orphans marked)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.support.stack import Stack, openids
from wxqr.service.dashboard_users import Role

PASSWORD = "correct horse battery"


@contextmanager
def _browser(stack: Stack, name: str, role: Role) -> Iterator[tuple[httpx.Client, str]]:
    """A logged-in browser of a new user, and its CSRF token."""
    stack.ws.dashboard_users.add(name, PASSWORD, role=role)
    with httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30) as client:
        done = client.post("/dashboard/login", data={"name": name, "password": PASSWORD})
        assert done.status_code == 303
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard/channels").text)
        assert token is not None
        yield client, token[1]


def _upload(client: httpx.Client, csrf: str, text: str) -> httpx.Response:
    return client.post(
        "/dashboard/import",
        data={"csrf": csrf},
        files={"file": ("channels.csv", text.encode("utf-8"), "text/csv")},
    )


def test_a_csv_import_reports_every_row(stack: Stack) -> None:
    with stack.client() as api:
        api.post("/api/v1/channels", json={"name": "已有 Taken", "code": {}}).raise_for_status()
    with _browser(stack, "editor", Role.EDITOR) as (client, csrf):
        assert client.get("/dashboard/import").status_code == 200
        bad = _upload(
            client,
            csrf,
            "name,group,kind,expire_days\n"
            "门店 A,门店,permanent,\n"
            "已有 Taken,,,\n"
            ",,,\n"
            "门店 B,门店,temporary,99\n"
            "门店 A,,,\n",
        )
        assert bad.status_code == 422
        rows = dict(re.findall(r'data-line="(\d+)">(.*?)</tr>', bad.text, re.S))
        assert set(rows) == {"2", "3", "5", "6"}  # the blank line 4 is skipped
        # A row naming an existing channel that matches it is not an error: a re-upload
        # of the same file resumes (the row is skipped when the import runs).
        assert "status expired" not in rows["3"]
        assert "expire" in rows["5"]
        assert "already on line 2" in rows["6"]
        assert "row-error" not in bad.text.split('data-line="2"')[0].rsplit("<tr", 1)[-1]
        assert stack.ws.channels.find(stack.account.id, "已有 Taken")  # nothing else made
        assert len(stack.ws.channels.list_channels(stack.account.id)) == 1

        good = _upload(
            client,
            csrf,
            "\ufeffname,group,tags\n门店 A,门店,春季;海报\n门店 B,门店,\n地推 C,地推,\n",
        )
        assert good.status_code == 200, good.text
        assert good.text.count("status active") == 3
        names = {c.name for c in stack.ws.channels.list_channels(stack.account.id)}
        assert names >= {"门店 A", "门店 B", "地推 C"}

        # The same file again (an interrupted upload retried): every row skipped, none made.
        again = _upload(
            client,
            csrf,
            "\ufeffname,group,tags\n门店 A,门店,春季;海报\n门店 B,门店,\n地推 C,地推,\n",
        )
        assert again.status_code == 200, again.text
        assert again.text.count("status pending") == 3
        assert "status active" not in again.text.split("<tbody", 1)[-1]
        assert len(stack.ws.channels.list_channels(stack.account.id)) == 4

        for text, said in (
            ("group\nx\n", "name"),
            ("name,colour\nx,red\n", "unknown CSV column"),
        ):
            refused = _upload(client, csrf, text)
            assert refused.status_code == 422
            assert said in refused.text
        latin = client.post(
            "/dashboard/import",
            data={"csrf": csrf},
            files={"file": ("c.csv", "name\ncaf\xe9\n".encode("latin-1"), "text/csv")},
        )
        assert latin.status_code == 422
        assert "UTF-8" in latin.text
        assert client.post("/dashboard/import", data={"csrf": csrf}).status_code == 422

        # The zip of a group's codes: the group's channels only, named by channel.
        zipped = client.get("/dashboard/codes.zip", params={"group": "门店"})
        assert zipped.status_code == 200
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
            assert sorted(archive.namelist()) == ["门店 A.png", "门店 B.png"]
    with _browser(stack, "viewer", Role.VIEWER) as (viewer, token):
        assert viewer.get("/dashboard/import").status_code == 403
        assert _upload(viewer, token, "name\nsneaky\n").status_code == 403
        assert viewer.get("/dashboard/codes.zip").status_code == 200  # reading is fine


def test_the_feed_of_recent_scans(stack: Stack) -> None:
    with stack.client() as api:
        made = api.post("/api/v1/channels", json={"name": "海报 Poster", "code": {}})
        made.raise_for_status()
    code = stack.ws.codes.current_code(made.json()["id"])
    assert code is not None
    assert code.ticket is not None
    first, second = openids(2)
    stack.emulator.scan(first, ticket=code.ticket)
    with _browser(stack, "viewer", Role.VIEWER) as (client, _csrf):
        page = client.get("/dashboard/scans")
        assert page.status_code == 200
        assert "海报 Poster" in page.text
        assert first not in page.text  # openids are shortened
        assert first[-6:] in page.text
        after = re.search(r'data-after="(\d+)"', page.text)
        assert after is not None
        assert client.get("/dashboard/scans.json", params={"after": after[1]}).json() == {
            "scans": []
        }
        stack.emulator.scan(second, ticket=code.ticket)
        fresh = client.get("/dashboard/scans.json", params={"after": after[1]}).json()["scans"]
        assert len(fresh) == 1
        assert fresh[0]["channel"] == "海报 Poster"
        assert fresh[0]["who"].endswith(second[-6:])
        assert client.get("/dashboard/scans.json", params={"after": -1}).status_code == 422
    with httpx.Client(base_url=stack.base_url, timeout=30) as anonymous:
        assert anonymous.get("/dashboard/scans.json").status_code == 401
