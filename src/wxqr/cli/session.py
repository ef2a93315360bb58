"""``wxqr session`` and ``wxqr binding``: scan sessions and the bindings they make
(docs/scan-sessions.md). Each command calls one method of the scan-session service."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import typer

from wxqr.cli._ws import (
    ACCOUNT_OPTION,
    FORMAT_OPTION,
    OutputFormat,
    console,
    emit_json,
    fail,
    open_workspace,
)
from wxqr.service.scan_sessions import FINAL_STATUSES, Binding, NewScanSession, ScanSession

__all__ = ["binding_app", "session_app"]

session_app = typer.Typer(help="Scan sessions: scan to log in, to bind, per order.")
binding_app = typer.Typer(help="Bindings (ref ↔ openid) made by bind sessions.")


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def session_dict(s: ScanSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "account": s.appid,
        "status": s.status.value,
        "purpose": s.purpose,
        "ref": s.ref,
        "payload": s.payload,
        "once": s.once,
        "scene": s.scene,
        "url": s.url,
        "image_url": s.image_url,
        "openid": s.openid,
        "unionid": s.unionid,
        "followed_now": s.followed_now,
        "scanned_at": _iso(s.scanned_at),
        "expires_at": _iso(s.expires_at),
        "scans": s.scans,
    }


def _binding_dict(b: Binding) -> dict[str, Any]:
    return {
        "id": b.id,
        "ref": b.ref,
        "openid": b.openid,
        "session_id": b.session_id,
        "created_at": _iso(b.created_at),
    }


def _show(data: dict[str, Any], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json(data)
        return
    for key, value in data.items():
        if value is not None:
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)


@session_app.command("create")
def create_command(
    purpose: str = typer.Option("login", "--purpose", help="login | bind | a word of yours."),
    ref: str | None = typer.Option(None, "--ref", help="Your user or order id."),
    payload: str | None = typer.Option(None, "--payload", help="A JSON object (≤ 4 KiB)."),
    ttl: int = typer.Option(300, "--ttl", help="Seconds the code is valid (60…2592000)."),
    many: bool = typer.Option(False, "--many", help="Report every scan (once=false)."),
    reply_text: str | None = typer.Option(None, "--reply-text", help="The scan's reply."),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create a scan session: a temporary code of its own; prints its poll token once."""
    parsed: Any = None
    if payload is not None:
        try:
            parsed = json.loads(payload)
        except ValueError:
            fail("--payload is not JSON")
    with open_workspace() as ws:
        acct = ws.account(account)
        created = ws.scan_sessions.create(
            acct.id,
            NewScanSession(
                purpose=purpose,
                ref=ref,
                payload=parsed,
                ttl_seconds=ttl,
                once=not many,
                reply=reply_text,
            ),
        )
        data = session_dict(created.session)
        data["poll_token"] = created.poll_token
        _show(data, output)


@session_app.command("show")
def show_command(
    session_id: int = typer.Argument(..., min=1, max=2**31 - 1, help="The session's id."),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show a session: its status and, once scanned, who scanned it."""
    with open_workspace() as ws:
        _show(session_dict(ws.scan_sessions.get(session_id)), output)


@session_app.command("wait")
def wait_command(
    session_id: int = typer.Argument(..., min=1, max=2**31 - 1, help="The session's id."),
    timeout: int = typer.Option(300, "--timeout", min=1, max=2_592_000, help="Seconds."),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Wait until the session is scanned, expires or is cancelled (or the timeout)."""
    with open_workspace() as ws:
        session = ws.scan_sessions.get(session_id)
        loop_until = asyncio.get_event_loop_policy().new_event_loop()
        try:
            waited = 0.0
            while session.status not in FINAL_STATUSES and waited < timeout:
                step = min(5.0, timeout - waited)
                seen = (session.status.value, session.scans)
                loop_until.run_until_complete(ws.session_watcher.wait(session.id, seen, step))
                waited += step
                session = ws.scan_sessions.get(session_id)
        finally:
            loop_until.close()
        _show(session_dict(session), output)
        if session.status not in FINAL_STATUSES:
            raise typer.Exit(2)


@session_app.command("cancel")
def cancel_command(
    session_id: int = typer.Argument(..., min=1, max=2**31 - 1, help="The session's id."),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Cancel a pending session (a scan of its code then completes nothing)."""
    with open_workspace() as ws:
        _show(session_dict(ws.scan_sessions.cancel(session_id)), output)


@binding_app.command("list")
def list_command(
    ref: str | None = typer.Option(None, "--ref", help="Only this ref."),
    openid: str | None = typer.Option(None, "--openid", help="Only this openid."),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the (ref ↔ openid) bindings completed bind sessions made."""
    with open_workspace() as ws:
        acct = ws.account(account)
        found = [
            _binding_dict(b) for b in ws.scan_sessions.bindings(acct.id, ref=ref, openid=openid)
        ]
    if output is OutputFormat.JSON:
        emit_json(found)
        return
    if not found:
        console.print("no bindings")
    for b in found:
        console.print(f"{b['id']}\t{b['ref']}\t{b['openid']}\t{b['created_at']}", highlight=False)


@binding_app.command("remove")
def remove_command(
    binding_id: int = typer.Argument(..., min=1, max=2**31 - 1, help="The binding's id."),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Remove a binding."""
    with open_workspace() as ws:
        removed = _binding_dict(ws.scan_sessions.remove_binding(binding_id))
    if output is OutputFormat.JSON:
        emit_json(removed)
    else:
        console.print(f"removed binding {removed['id']} ({removed['ref']} ↔ {removed['openid']})")
