"""Dashboard users over HTTP: what each role may do, enforced by the server (403), hidden
by the pages; each user limited to their accounts; the lock-out keyed on (user, client)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.stack import Stack
from wxqr.service.accounts import add_account
from wxqr.service.channels import NewChannel
from wxqr.service.dashboard_users import Role

PASSWORD = "correct horse battery"
OTHER_APPID = "wxother0000000002"


def _client(stack: Stack, local: str = "127.0.0.1") -> httpx.Client:
    """A browser-like client; ``local`` is the address it connects from (a 127.x)."""
    transport = httpx.HTTPTransport(local_address=local)
    return httpx.Client(
        base_url=stack.base_url, follow_redirects=False, timeout=30, transport=transport
    )


def _login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/dashboard/login", data={"name": name, "password": password})


def _csrf(client: httpx.Client, path: str = "/dashboard/channels") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found[1]


@pytest.fixture
def channel_id(stack: Stack) -> int:
    with stack.client() as api:
        made = api.post("/api/v1/channels", json={"name": "门店海报 Poster", "code": {}})
        made.raise_for_status()
    return int(made.json()["id"])


def test_a_viewer_reads_but_cannot_change_anything(stack: Stack, channel_id: int) -> None:
    stack.ws.dashboard_users.add("viewer1", PASSWORD, role=Role.VIEWER)
    with _client(stack) as client:
        assert _login(client, "viewer1").status_code == 303
        page = client.get(f"/dashboard/channels/{channel_id}")
        assert page.status_code == 200
        assert 'id="issue"' not in page.text  # no button it could not use
        assert "/dashboard/settings" not in page.text
        assert "viewer1" in page.text
        edit = client.get(f"/dashboard/channels/{channel_id}/edit")
        assert edit.status_code == 200
        assert 'id="save"' not in edit.text
        assert 'id="archive"' not in edit.text
        assert "disabled" in edit.text
        listing = client.get("/dashboard/channels")
        assert "/dashboard/channels/new" not in listing.text
        assert client.get(f"/dashboard/channels/{channel_id}/code.svg").status_code == 200
        assert client.get("/dashboard/export").status_code == 200

        csrf = _csrf(client)
        for path, form in (
            (f"/dashboard/channels/{channel_id}/codes", {"kind": "permanent"}),
            (f"/dashboard/channels/{channel_id}/edit", {"action": "archive"}),
            ("/dashboard/channels", {"name": "x", "kind": "permanent"}),
            ("/dashboard/settings/keys", {"key_name": "sneaky"}),
        ):
            refused = client.post(path, data={"csrf": csrf, **form})
            assert refused.status_code == 403, path
        for path in ("/dashboard/channels/new", "/dashboard/settings", "/dashboard/webhooks"):
            refused = client.get(path)
            assert refused.status_code == 403, path
            assert "viewer" in refused.text
    assert len(stack.ws.codes.codes_of(channel_id)) == 1  # nothing was issued
    assert not stack.ws.channels.get(channel_id).archived
    assert all(k.name != "sneaky" for k in stack.ws.api_keys.list_keys())


def test_an_editor_edits_channels_but_not_settings(stack: Stack, channel_id: int) -> None:
    stack.ws.dashboard_users.add("editor1", PASSWORD, role=Role.EDITOR)
    with _client(stack) as client:
        assert _login(client, "editor1").status_code == 303
        page = client.get(f"/dashboard/channels/{channel_id}")
        assert 'id="issue"' in page.text
        assert "/dashboard/settings" not in page.text
        csrf = _csrf(client)
        saved = client.post(
            f"/dashboard/channels/{channel_id}/edit",
            data={"csrf": csrf, "name": "改名 Renamed", "reply_type": "text", "reply_text": "hi"},
        )
        assert saved.status_code == 303
        assert stack.ws.channels.get(channel_id).name == "改名 Renamed"
        assert (
            client.post(
                f"/dashboard/channels/{channel_id}/edit", data={"name": "no token"}
            ).status_code
            == 403
        )
        for path in ("/dashboard/settings", "/dashboard/webhooks", "/dashboard/users"):
            assert client.get(path).status_code == 403, path
        refused = client.post("/dashboard/settings/keys", data={"csrf": csrf, "key_name": "k"})
        assert refused.status_code == 403


def test_a_user_sees_only_their_accounts(stack: Stack, channel_id: int) -> None:
    other = add_account(stack.ws.engine, appid=OTHER_APPID, token="other-token", name="Other")
    hidden = stack.ws.channels.create(other.id, NewChannel(name="别的号 Hidden"))
    stack.ws.dashboard_users.add(
        "scoped", PASSWORD, role=Role.EDITOR, accounts=[stack.account.appid]
    )
    with _client(stack) as client:
        assert _login(client, "scoped").status_code == 303
        assert client.get(f"/dashboard/channels/{channel_id}").status_code == 200
        assert client.get(f"/dashboard/channels/{hidden.id}").status_code == 404
        assert client.get(f"/dashboard/channels/{hidden.id}/code.png").status_code == 404
        assert client.get(f"/dashboard/channels?account={OTHER_APPID}").status_code == 404
        listing = client.get("/dashboard/channels")
        assert "别的号 Hidden" not in listing.text
        assert OTHER_APPID not in listing.text  # not even in the account picker
        csrf = _csrf(client)
        moved = client.post(
            f"/dashboard/channels/{hidden.id}/edit", data={"csrf": csrf, "name": "taken"}
        )
        assert moved.status_code == 404
    assert stack.ws.channels.get(hidden.id).name == "别的号 Hidden"


def test_the_lock_out_is_per_user_name_and_client(stack: Stack) -> None:
    team = stack.ws.dashboard_users
    team.add("typo", PASSWORD, role=Role.EDITOR)
    team.add("colleague", PASSWORD, role=Role.VIEWER)
    limit = stack.ws.settings.login_max_failures
    with _client(stack, "127.0.0.1") as office:
        statuses = [_login(office, "typo", "wrong guess").status_code for _ in range(limit + 1)]
        assert statuses == [401] * limit + [429]
        assert _login(office, "Typo", PASSWORD).status_code == 429  # names are folded
        # Someone else behind the same address still logs in.
        assert _login(office, "colleague").status_code == 303
    with _client(stack, "127.0.0.2") as elsewhere:  # the same user from another client
        assert _login(elsewhere, "typo").status_code == 303


def test_the_language_switch_is_remembered_for_the_user(stack: Stack) -> None:
    stack.ws.dashboard_users.add("lang", PASSWORD)
    with _client(stack) as client:
        _login(client, "lang")
        client.get("/dashboard/language", params={"to": "zh_CN", "next": "/dashboard/"})
    assert stack.ws.dashboard_users.get("lang").language == "zh_CN"
    with _client(stack) as fresh:  # another browser: no cookie yet
        logged_in = _login(fresh, "lang")
        assert "wxqr_lang=zh_CN" in logged_in.headers["set-cookie"]
        assert "用户" in fresh.get("/dashboard/channels").text


def test_an_admin_manages_the_team_on_the_users_page(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)  # the user "admin", as `wxqr admin set-password`
    with _client(stack) as client:
        # No name typed: the user "admin" (one-admin installs log in as before).
        logged_in = client.post("/dashboard/login", data={"password": PASSWORD})
        assert logged_in.status_code == 303
        page = client.get("/dashboard/users")
        assert page.status_code == 200
        assert 'data-user="admin"' in page.text
        csrf = _csrf(client, "/dashboard/users")
        added = client.post(
            "/dashboard/users",
            data={"csrf": csrf, "name": "New.Hire", "password": PASSWORD, "role": "editor"},
        )
        assert added.status_code == 200
        assert 'data-user="new.hire"' in added.text
        bad = client.post(
            "/dashboard/users",
            data={"csrf": csrf, "name": "x", "password": "short", "role": "editor"},
        )
        assert bad.status_code == 422
        assert "at least 8" in bad.text
        changed = client.post(
            "/dashboard/users/new.hire/role", data={"csrf": csrf, "role": "viewer"}
        )
        assert changed.status_code == 200
        assert stack.ws.dashboard_users.get("new.hire").role is Role.VIEWER
        last = client.post("/dashboard/users/admin/role", data={"csrf": csrf, "role": "viewer"})
        assert last.status_code == 409  # the last admin stays
        assert (
            client.post("/dashboard/users/new.hire/remove", data={"csrf": "forged"}).status_code
            == 403
        )
        removed = client.post("/dashboard/users/new.hire/remove", data={"csrf": csrf})
        assert removed.status_code == 200
        assert 'data-user="new.hire"' not in removed.text
