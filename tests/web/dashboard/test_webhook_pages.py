"""The dashboard's webhook pages over HTTP: add (secret shown once), test, disable,
enable, retry, remove; login and CSRF required."""

from __future__ import annotations

import re
import time

import httpx
from sqlalchemy import Engine

from tests.support.webhook_receiver import Receiver
from tests.support.webhook_stack import webhook_stack
from wxqr.emulator.testing import RunningEmulator

PASSWORD = "correct horse battery"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_webhook_pages(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    with webhook_stack(engine, database_url, emulator) as stack:
        stack.ws.admin.set_password(PASSWORD)
        with httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30) as client:
            assert client.get("/dashboard/webhooks").status_code == 303  # login first
            assert client.post("/dashboard/webhooks", data={}).status_code == 303
            login = client.post("/dashboard/login", data={"password": PASSWORD})
            assert login.status_code == 303
            listing = client.get("/dashboard/webhooks")
            assert listing.status_code == 200
            assert "No webhooks yet" in listing.text
            assert 'href="/dashboard/webhooks"' in listing.text  # in the navigation
            csrf = _csrf(listing.text)

            forged = client.post(
                "/dashboard/webhooks", data={"url": receiver.url, "events": ["scan"]}
            )
            assert forged.status_code == 403
            bad = client.post(
                "/dashboard/webhooks", data={"csrf": csrf, "url": "ftp://x", "events": ["scan"]}
            )
            assert bad.status_code == 422
            assert "https" in bad.text

            added = client.post(
                "/dashboard/webhooks",
                data={
                    "csrf": csrf,
                    "url": receiver.url + "/crm",
                    "events": ["scan", "follow"],
                    "description": "CRM <b>",
                },
            )
            assert added.status_code == 200
            secret = re.search(r"<code>(whsec_[^<]+)</code>", added.text)
            assert secret is not None
            assert "CRM &lt;b&gt;" in added.text  # escaped
            hook_id = int(
                re.search(r"Webhook (\d+)", added.text).group(1)  # type: ignore[union-attr]
            )
            page = client.get(f"/dashboard/webhooks/{hook_id}")
            assert secret.group(1) not in page.text  # shown only once

            tested = client.post(f"/dashboard/webhooks/{hook_id}/test", data={"csrf": csrf})
            assert tested.status_code == 200
            assert "Ping queued" in tested.text
            got = receiver.wait_for(lambda r: len(r) >= 1)
            got[0].verify(secret.group(1))
            deadline = time.monotonic() + 10
            while True:  # the worker records the delivery just after the receiver's answer
                after = client.get(f"/dashboard/webhooks/{hook_id}")
                if "1 delivered" in after.text or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert "ping" in after.text
            assert "1 delivered" in after.text

            disabled = client.post(f"/dashboard/webhooks/{hook_id}/disable", data={"csrf": csrf})
            assert "Disabled." in disabled.text
            assert 'id="enable"' in disabled.text
            enabled = client.post(f"/dashboard/webhooks/{hook_id}/enable", data={"csrf": csrf})
            assert 'id="disable"' in enabled.text
            missing = client.post(
                f"/dashboard/webhooks/{hook_id}/deliveries/999999/retry", data={"csrf": csrf}
            )
            assert missing.status_code == 404
            assert client.get("/dashboard/webhooks/999999").status_code == 404
            removed = client.post(f"/dashboard/webhooks/{hook_id}/remove", data={"csrf": csrf})
            assert removed.status_code == 303
            assert "No webhooks yet" in client.get("/dashboard/webhooks").text
