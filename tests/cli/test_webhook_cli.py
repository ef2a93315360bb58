"""``wxqr webhook …`` run in-process on a real database, deliveries to a real receiver."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from tests.support.stack import openids
from tests.support.webhook_receiver import Receiver
from tests.support.webhook_stack import webhook_stack
from wxqr.cli.main import app
from wxqr.emulator.testing import RunningEmulator


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_webhook_commands(
    engine: Engine, database_url: str, emulator: RunningEmulator, receiver: Receiver
) -> None:
    runner = CliRunner()
    env = {
        "WXQR_DATABASE_URL": database_url,
        "WXQR_WEBHOOK_ALLOW_HTTP": "1",
        "WXQR_WEBHOOK_ALLOW_PRIVATE": "1",
    }

    def run(*args: str, extra: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), env={**env, **(extra or {})})

    with webhook_stack(engine, database_url, emulator):
        made = _json(
            run(
                "webhook", "add", receiver.url, "--events", "scan,follow", "-d", "crm", "-f", "json"
            )
        )
        assert made["events"] == ["scan", "follow"]
        assert made["secret"].startswith("whsec_")
        hook = str(made["id"])
        listed = _json(run("webhook", "list", "--format", "json"))
        assert [item["id"] for item in listed] == [made["id"]]
        assert "secret" not in listed[0]
        table = run("webhook", "list")
        assert table.exit_code == 0
        assert made["secret"] not in table.output

        user = openids(1)[0]
        emulator.follow(user)
        got = receiver.wait_for(lambda r: len(r) >= 1)
        got[0].verify(made["secret"])
        pinged = _json(run("webhook", "test", hook, "--format", "json"))
        assert pinged["type"] == "ping"
        receiver.wait_for(lambda r: len(r) >= 2)
        deadline = time.monotonic() + 10
        while True:  # the worker records the deliveries just after the receiver's answers
            page = _json(run("webhook", "deliveries", hook, "--format", "json"))
            if page["stats"]["delivered"] == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert {d["type"] for d in page["items"]} == {"follow", "ping"}
        assert page["stats"]["delivered"] == 2
        assert page["stats"]["lag_p50_ms"] is not None
        text = run("webhook", "deliveries", hook)
        assert text.exit_code == 0
        assert "lag p50" in text.output
        shown = _json(run("webhook", "show", hook, "-f", "json"))
        assert shown["deliveries"]["delivered"] == 2

        follow = next(d for d in page["items"] if d["type"] == "follow")
        retried = _json(run("webhook", "retry", hook, str(follow["id"]), "-f", "json"))
        assert retried["status"] == "pending"
        replayed = _json(
            run("webhook", "replay", hook, "--since", "2020-01-01T00:00:00Z", "-f", "json")
        )
        assert replayed["queued"] == 1
        got = receiver.wait_for(lambda r: len(r) >= 4)
        assert len({r.message_id for r in got if r.document["type"] == "follow"}) == 1

        updated = _json(
            run("webhook", "update", hook, "--disable", "--events", "scan", "-f", "json")
        )
        assert updated["enabled"] is False
        assert updated["events"] == ["scan"]
        rotated = _json(run("webhook", "rotate-secret", hook, "-f", "json"))
        assert rotated["secret"] != made["secret"]

        bad_url = run(
            "webhook", "add", "http://example.com/x", extra={"WXQR_WEBHOOK_ALLOW_HTTP": "0"}
        )
        assert bad_url.exit_code == 1
        assert "https" in bad_url.stderr
        assert "Traceback" not in bad_url.output
        missing = run("webhook", "show", "999")
        assert missing.exit_code == 1
        assert "no webhook endpoint 999" in missing.stderr
        bad_since = run("webhook", "replay", hook, "--since", "last week")
        assert bad_since.exit_code == 1
        assert "--since" in bad_since.stderr
        bad_status = run("webhook", "deliveries", hook, "--status", "lost")
        assert bad_status.exit_code == 1

        removed = _json(run("webhook", "remove", hook, "-f", "json"))
        assert removed["id"] == made["id"]
        assert _json(run("webhook", "list", "-f", "json")) == []
