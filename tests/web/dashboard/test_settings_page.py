"""Account settings and API keys in the browser: write-only credentials, the welcome reply,
the time zone, keys created with a scope (the secret shown once, and it works), revoked."""

from __future__ import annotations

import re

import httpx

from tests.support.stack import APPID, Stack
from wxqr.protocol import TextReply

PASSWORD = "correct horse battery"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def test_account_settings_and_api_keys(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    secret_before = stack.ws.account(APPID).app_secret
    assert secret_before is not None
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        client.post("/dashboard/login", data={"password": PASSWORD})
        page = client.get("/dashboard/settings")
        assert page.status_code == 200
        assert secret_before not in page.text  # write-only: never sent back
        csrf = _csrf(page.text)
        base = {"csrf": csrf, "encrypt_mode": "plain", "name": "门店号"}

        saved = client.post(
            "/dashboard/settings/account",
            data={**base, "timezone": "Asia/Tokyo", "welcome": "感谢关注！", "app_secret": ""},
        )
        assert saved.status_code == 200
        assert "Saved." in saved.text
        account = stack.ws.account(APPID)
        assert account.timezone == "Asia/Tokyo"
        assert account.name == "门店号"
        assert account.default_subscribe_reply == TextReply("感谢关注！")
        assert account.app_secret == secret_before  # blank kept it

        bad = client.post("/dashboard/settings/account", data={**base, "timezone": "Mars/Olympus"})
        assert bad.status_code == 422
        assert 'role="alert"' in bad.text
        assert stack.ws.account(APPID).timezone == "Asia/Tokyo"

        made = client.post(
            "/dashboard/settings/keys",
            data={"csrf": csrf, "key_name": "crm-sync", "scope": "account", "read_only": "1"},
        )
        assert made.status_code == 200
        shown = re.search(r'id="new-key">[^<]*<code>([^<]+)</code>', made.text)
        assert shown is not None
        secret = shown[1]
        with httpx.Client(base_url=stack.base_url, timeout=30) as api:
            headers = {"Authorization": f"Bearer {secret}"}
            assert api.get("/api/v1/channels", headers=headers).status_code == 200
            refused = api.post("/api/v1/channels", headers=headers, json={"name": "x"})
            assert refused.status_code == 403  # read-only
        key = stack.ws.api_keys.get("crm-sync")
        assert key.scope.read_only
        assert key.scope.appids == frozenset({APPID})
        assert secret not in client.get("/dashboard/settings").text  # shown once

        taken = client.post("/dashboard/settings/keys", data={"csrf": csrf, "key_name": "crm-sync"})
        assert taken.status_code == 409

        revoked = client.post(
            "/dashboard/settings/keys/revoke", data={"csrf": csrf, "key_name": "crm-sync"}
        )
        assert revoked.status_code == 200
        assert not stack.ws.api_keys.get("crm-sync").active
        with httpx.Client(base_url=stack.base_url, timeout=30) as api:
            gone = api.get("/api/v1/channels", headers={"Authorization": f"Bearer {secret}"})
            assert gone.status_code == 401

        forged = client.post("/dashboard/settings/keys", data={"csrf": "x", "key_name": "k2"})
        assert forged.status_code == 403
