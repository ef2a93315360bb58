"""``wxqr channel``: create, import, list, show and archive channels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from wxqr.cli._ws import (
    ACCOUNT_OPTION,
    FORMAT_OPTION,
    OutputFormat,
    console,
    emit_json,
    fail,
    open_workspace,
)
from wxqr.service.bulk import (
    BulkImportError,
    BulkSummary,
    FailedRow,
    SkippedRow,
    import_channels,
    parse_channel_csv,
)
from wxqr.service.channels import Channel, ChannelStatus, NewChannel
from wxqr.service.code_lifecycle import parse_duration
from wxqr.service.code_spec import parse_code_spec
from wxqr.service.codes import Code, CodeSpec
from wxqr.service.errors import ServiceError
from wxqr.service.replies import reply_from_input
from wxqr.service.workspace import Workspace

__all__ = ["app", "channel_dict", "code_dict", "code_spec"]

app = typer.Typer(help="Channels and their QR codes.", no_args_is_help=True)


def code_dict(code: Code | None, now: float) -> dict[str, Any] | None:
    if code is None:
        return None
    return {
        "id": code.id,
        "scene": code.scene_value,
        "scene_type": code.scene_type.value,
        "kind": code.kind.value,
        "status": code.status(now).value,
        "url": code.url,
        "expires_at": code.expires_at,
        "created_at": code.created_at,
    }


def channel_dict(channel: Channel, code: Code | None, now: float) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "group": channel.group,
        "tags": list(channel.tags),
        "payload": channel.payload,
        "reply": channel.reply_json(),
        "follower_tags": list(channel.follower_tags),
        "status": channel.status.value,
        "created_at": channel.created_at,
        "code": code_dict(code, now),
    }


def code_spec(kind: str, scene_type: str, scene: str | None, expire_days: int | None) -> CodeSpec:
    """The code the options ask for (the service's one rule; errors end the command)."""
    try:
        return parse_code_spec(kind, scene_type, scene, expire_days=expire_days)
    except ServiceError as exc:
        fail(exc.detail)


def _code_text(code: Code | None, now: float) -> str:
    if code is None:
        return "—"
    status = code.status(now).value
    colour = {"active": "green", "expired": "red"}.get(status, "yellow")
    return f"{code.kind.value} · {code.scene} [{colour}]{status}[/]"


@app.command("create")
def create_command(
    name: str = typer.Argument(..., help="The channel's name (unique in the account)."),
    group: str | None = typer.Option(None, "--group", "-g"),
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeatable.")] = None,
    payload: str | None = typer.Option(None, "--payload", help="Business payload (JSON)."),
    reply_text: str | None = typer.Option(None, "--reply-text", help="Text reply to a scan."),
    follower_tag: Annotated[
        list[str] | None,
        typer.Option("--follower-tag", help="WeChat user tag given to scanners; repeatable."),
    ] = None,
    kind: str = typer.Option("permanent", "--kind", help="permanent | temporary"),
    scene_type: str = typer.Option("id", "--scene-type", help="id | str"),
    scene: str | None = typer.Option(None, "--scene", help="Your own scene (else allocated)."),
    expire_days: int | None = typer.Option(None, "--expire-days", min=1, max=30),
    no_code: bool = typer.Option(False, "--no-code", help="Create the channel without a code."),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create a channel and issue its first QR code through WeChat."""
    data: Any = None
    if payload is not None:
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            fail(f"--payload is not JSON: {exc}")
    spec = None if no_code else code_spec(kind, scene_type, scene, expire_days)
    with open_workspace() as ws:
        acct = ws.account(account)
        new = NewChannel(
            name=name,
            group=group,
            tags=tuple(tag or ()),
            payload=data,
            reply=reply_from_input(reply_text),
            follower_tags=tuple(follower_tag or ()),
        )
        created = ws.channel_codes.create(acct.id, new, spec)
        _print_channel(ws, created.channel, created.code, output)


def _print_channel(
    ws: Workspace, channel: Channel, code: Code | None, output: OutputFormat
) -> None:
    now = ws.clock()
    if output is OutputFormat.JSON:
        emit_json(channel_dict(channel, code, now))
        return
    table = Table(show_header=False, box=None)
    table.add_row("id", str(channel.id))
    table.add_row("name", channel.name)
    table.add_row("group", channel.group or "—")
    table.add_row("tags", ", ".join(channel.tags) or "—")
    table.add_row("status", channel.status.value)
    table.add_row("code", _code_text(code, now))
    if code is not None:
        table.add_row("url", code.url or "—")
    console.print(table)


@app.command("import")
def import_command(
    csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file.")],
    skip_existing: bool = typer.Option(
        False,
        "--skip-existing",
        help="Skip rows whose name is taken even by a different channel "
        "(rows matching an existing channel are always skipped).",
    ),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create many channels (and their codes) from a CSV file with a header row.

    Columns: name (required), group, kind (permanent|temporary), scene_type (id|str),
    scene, expire_days, tags (separated by ';'), reply, payload (JSON), follower_tags.
    Every row is checked first, and the quota: an import that cannot finish today is
    refused. Re-running the same CSV skips the rows already done and continues."""
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {csv_file}: {exc}")
    with open_workspace() as ws:
        acct = ws.account(account)
        rows = parse_channel_csv(text)
        with Progress(console=console, transient=output is OutputFormat.JSON) as progress:
            task = progress.add_task("creating channels", total=len(rows))
            try:
                summary = import_channels(
                    ws.channels,
                    ws.codes,
                    acct.id,
                    rows,
                    progress=lambda done, _total: progress.update(task, completed=done),
                    skip_existing=skip_existing,
                    quotas=ws.quotas,
                )
            except BulkImportError as exc:
                progress.stop()
                _print_summary(exc.summary, ws.clock(), output)
                fail(exc.detail)
        _print_summary(summary, ws.clock(), output)


def _print_summary(summary: BulkSummary, now: float, output: OutputFormat) -> None:
    """The import's outcome: JSON, or one line and the reasons of skipped/failed rows."""
    if output is OutputFormat.JSON:
        emit_json(
            {
                "created": [channel_dict(c.channel, c.code, now) for c in summary.created],
                "skipped": [vars_of(row) for row in summary.skipped],
                "failed": [vars_of(row) for row in summary.failed],
            }
        )
        return
    console.print(summary.text())
    for skipped in summary.skipped:
        console.print(f"  skipped line {skipped.line} {skipped.name!r}: {skipped.reason}")
    for failed in summary.failed:
        console.print(f"  [red]failed[/] line {failed.line} {failed.name!r}: {failed.reason}")


def vars_of(row: SkippedRow | FailedRow) -> dict[str, Any]:
    return {"line": row.line, "name": row.name, "reason": row.reason}


@app.command("list")
def list_command(
    group: str | None = typer.Option(None, "--group", "-g"),
    status: str = typer.Option("active", "--status", help="active | archived | all"),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the account's channels with their current code."""
    if status not in ("active", "archived", "all"):
        fail("--status is active, archived or all")
    with open_workspace() as ws:
        acct = ws.account(account)
        chosen = None if status == "all" else ChannelStatus(status)
        channels = ws.channels.list_channels(acct.id, group=group, status=chosen)
        codes = ws.codes.current_codes([c.id for c in channels])
        now = ws.clock()
        if output is OutputFormat.JSON:
            emit_json([channel_dict(c, codes.get(c.id), now) for c in channels])
            return
        table = Table("id", "name", "group", "tags", "status", "code")
        for c in channels:
            table.add_row(
                str(c.id),
                c.name,
                c.group or "",
                ", ".join(c.tags),
                c.status.value,
                _code_text(codes.get(c.id), now),
            )
        console.print(table)
        usage = ws.codes.permanent_usage(acct.id)
        console.print(f"{len(channels)} channels · permanent codes {usage.used}/{usage.limit}")


@app.command("show")
def show_command(
    channel: str = typer.Argument(..., help="Channel name or id."),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show one channel, all its codes and its metrics of the last 30 days."""
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.channels.find(acct.id, channel)
        codes = ws.codes.codes_of(found.id)
        query = ws.stats.query(acct.id, channels=[found.id])
        metrics = ws.stats.summary_of(query)
        start, end = query.date_from, query.date_to
        now = ws.clock()
        if output is OutputFormat.JSON:
            data = channel_dict(found, ws.codes.current_code(found.id), now)
            data["codes"] = [code_dict(c, now) for c in codes]
            data["metrics"] = {"from": str(start), "to": str(end), **metrics.as_dict()}
            emit_json(data)
            return
        _print_channel(ws, found, ws.codes.current_code(found.id), output)
        table = Table("code id", "kind", "scene", "status", "expires", "url", title="codes")
        for c in codes:
            table.add_row(
                str(c.id),
                c.kind.value,
                c.scene,
                c.status(now).value,
                str(c.expires_at or "—"),
                c.url or "—",
            )
        console.print(table)
        stats = Table(*metrics.as_dict().keys(), title=f"metrics {start} – {end}")
        stats.add_row(*(str(v) for v in metrics.as_dict().values()))
        console.print(stats)


@app.command("archive")
def archive_command(
    channel: str = typer.Argument(..., help="Channel name or id."),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Archive a channel: it leaves the lists; its codes keep working and counting."""
    with open_workspace() as ws:
        acct = ws.account(account)
        archived = ws.channels.archive(ws.channels.find(acct.id, channel).id)
        if output is OutputFormat.JSON:
            emit_json(channel_dict(archived, ws.codes.current_code(archived.id), ws.clock()))
        else:
            console.print(f"archived channel {archived.name!r} (id {archived.id})")


@app.command("renewal")
def renewal_command(
    channel: str = typer.Argument(..., help="Channel name or id."),
    auto_renew: bool | None = typer.Option(
        None,
        "--auto-renew/--no-auto-renew",
        help="Renew the channel's temporary code before it expires (or stop).",
    ),
    lead: str | None = typer.Option(
        None, "--lead", help="How long before expiry to renew, e.g. 2d, 36h (default: 2d)."
    ),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show or change whether the worker renews the channel's temporary code (issue 19)."""
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.channels.find(acct.id, channel)
        setting = ws.lifecycle.renewal(found.id)
        if auto_renew is not None or lead is not None:
            seconds = None if lead is None else parse_duration(lead, field_name="--lead")
            enabled = setting.auto_renew if auto_renew is None else auto_renew
            setting = ws.lifecycle.set_renewal(found.id, enabled, seconds)
    data = {
        "channel_id": setting.channel_id,
        "auto_renew": setting.auto_renew,
        "lead_seconds": setting.lead_seconds,
        "lead_is_default": not setting.custom_lead,
    }
    if output is OutputFormat.JSON:
        emit_json(data)
        return
    state = "on" if setting.auto_renew else "off"
    console.print(
        f"auto-renew of {found.name!r}: {state}, {setting.lead_seconds / 3600:g} h before expiry"
        + ("" if setting.custom_lead else " (default)")
    )
