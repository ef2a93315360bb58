"""``wxqr session`` and ``wxqr binding``, run in-process on a real database, the codes
issued by the emulator and scanned through a served wxqr."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from tests.support.stack import Stack, openids
from wxqr.cli.main import app


def _run(stack: Stack, database_url: str, *args: str) -> Result:
    env = {
        "WXQR_DATABASE_URL": database_url,
        "WXQR_WECHAT_API_BASE": stack.emulator.base_url,
        "WXQR_WECHAT_MP_BASE": stack.emulator.base_url,
    }
    return CliRunner().invoke(app, list(args), env=env)


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_session_and_binding_commands(stack: Stack, database_url: str) -> None:
    (user,) = openids(1)
    created = _json(
        _run(
            stack,
            database_url,
            "session",
            "create",
            "--purpose",
            "bind",
            "--ref",
            "member-7",
            "--payload",
            '{"plan": "gold"}',
            "--format",
            "json",
        )
    )
    assert created["status"] == "pending"
    assert created["poll_token"]
    assert created["payload"] == {"plan": "gold"}
    session_id = str(created["id"])

    shown = _json(_run(stack, database_url, "session", "show", session_id, "--format", "json"))
    assert shown["status"] == "pending"
    assert "poll_token" not in shown

    ticket = created["url"]
    assert stack.emulator.scan(user, url=ticket).pushes[0].delivered
    waited = _json(
        _run(stack, database_url, "session", "wait", session_id, "--timeout", "10", "-f", "json")
    )
    assert (waited["status"], waited["openid"]) == ("scanned", user)

    bindings = _json(
        _run(stack, database_url, "binding", "list", "--ref", "member-7", "-f", "json")
    )
    assert [(b["ref"], b["openid"]) for b in bindings] == [("member-7", user)]
    removed = _run(stack, database_url, "binding", "remove", str(bindings[0]["id"]))
    assert removed.exit_code == 0, removed.output
    assert _json(_run(stack, database_url, "binding", "list", "-f", "json")) == []

    other = _json(_run(stack, database_url, "session", "create", "-f", "json"))
    cancelled = _json(
        _run(stack, database_url, "session", "cancel", str(other["id"]), "-f", "json")
    )
    assert cancelled["status"] == "cancelled"


def test_bad_input_is_one_line_and_a_non_zero_exit(stack: Stack, database_url: str) -> None:
    for args in (
        ("session", "create", "--purpose", "has spaces"),
        ("session", "create", "--ttl", "5"),
        ("session", "create", "--payload", "[1, 2]"),
        ("session", "create", "--payload", "{not json"),
        ("session", "show", "99999"),
        ("binding", "remove", "99999"),
    ):
        result = _run(stack, database_url, *args)
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output
        assert "error" in result.output.lower(), (args, result.output)
