"""``wxqr code``: issue codes, save a channel's code image, zip the codes of many channels,
finish reservations a stopped process left pending, list expiring codes, show the quota."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
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
from wxqr.cli.channel import code_dict, code_spec
from wxqr.service.bulk import build_zip
from wxqr.service.bulk_issue import BulkIssueError, issue_codes
from wxqr.service.channels import ChannelStatus
from wxqr.service.code_expiry import check_exportable, expiry_date
from wxqr.service.code_images import ImageFormat, ImageSource, ImageSpec
from wxqr.service.code_lifecycle import parse_duration
from wxqr.service.codes import ABANDONED_AFTER_SECONDS
from wxqr.service.errors import InvalidInputError, ServiceError

__all__ = ["app"]

app = typer.Typer(
    help="QR codes: issue, image, zip, resume, expiring, quota.", no_args_is_help=True
)
warnings = Console(stderr=True)  # lifecycle: export warnings go to stderr, data to stdout
FORCE_OPTION = typer.Option(
    False, "--force", help="Export even an expired code (its scans show WeChat's error page)."
)


def warn(message: str) -> None:
    warnings.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


OutputPath = Annotated[Path, typer.Option("--output", "-o", help="File to write.")]


def _format_for(path: Path, chosen: str | None) -> ImageFormat:
    name = chosen or path.suffix.lstrip(".").lower() or "png"
    if name == "jpeg":
        name = "jpg"
    try:
        return ImageFormat(name)
    except ValueError:
        fail(f"unknown image format {name!r}: use png, svg or jpg (WeChat's own image)")


def _spec(
    image_format: ImageFormat, scale: int, size: int | None, border: int, dark: str, light: str
) -> ImageSpec:
    source = ImageSource.WECHAT if image_format is ImageFormat.JPG else ImageSource.RENDER
    try:
        return ImageSpec(
            format=image_format,
            source=source,
            scale=scale,
            size=size,
            border=border,
            dark=dark,
            light=light,
        )
    except InvalidInputError as exc:
        fail(exc.detail)


@app.command("issue")
def issue_command(
    channel: str = typer.Argument(..., help="Channel name or id."),
    kind: str = typer.Option("permanent", "--kind", help="permanent | temporary"),
    scene_type: str = typer.Option("id", "--scene-type", help="id | str"),
    scene: str | None = typer.Option(None, "--scene", help="Your own scene (else allocated)."),
    expire_days: int | None = typer.Option(None, "--expire-days", min=1, max=30),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Issue a new code for a channel (e.g. when its temporary code has expired)."""
    spec = code_spec(kind, scene_type, scene, expire_days)
    with open_workspace() as ws:
        acct = ws.account(account)
        code = ws.codes.issue(ws.channels.find(acct.id, channel).id, spec)
        data = code_dict(code, ws.clock())
        if output is OutputFormat.JSON:
            emit_json(data)
        else:
            console.print(f"issued {code.kind.value} code, scene {code.scene}: {code.url}")


@app.command("image")
def image_command(
    channel: Annotated[str, typer.Argument(help="Channel name or id.")],
    output_path: OutputPath,
    image_format: str | None = typer.Option(
        None, "--image-format", help="png | svg | jpg (default: from the file suffix)."
    ),
    scale: int = typer.Option(10, "--scale", min=1, max=40, help="Pixels per module."),
    size: int | None = typer.Option(None, "--size", help="Exact width in pixels."),
    border: int = typer.Option(4, "--border", min=0, max=16, help="Quiet zone (modules)."),
    dark: str = typer.Option("#000000", "--dark", help="Colour of dark modules."),
    light: str = typer.Option("#ffffff", "--light", help="Background colour."),
    force: bool = FORCE_OPTION,
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Write the image of the channel's current code (rendered; jpg = WeChat's own).
    An expired code is refused unless --force; a temporary one is written with a warning
    saying when it stops working."""
    spec = _spec(_format_for(output_path, image_format), scale, size, border, dark, light)
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.channels.find(acct.id, channel)
        code = ws.codes.current_code(found.id)
        if code is None:
            fail(f"channel {found.name!r} has no code: issue one with `wxqr code issue`")
        warning = check_exportable(code, force, ws.clock())
        image = ws.images.image(code, spec)
    try:
        output_path.write_bytes(image.content)
    except OSError as exc:
        fail(f"cannot write {output_path}: {exc}")
    if warning is not None:
        warn(warning)
    data = {"file": str(output_path), "bytes": len(image.content), "code_id": code.id}
    if output is OutputFormat.JSON:
        emit_json({**data, "content_type": image.content_type})
    else:
        console.print(f"wrote {output_path} ({len(image.content)} bytes, {image.content_type})")


@app.command("zip")
def zip_command(
    output_path: OutputPath,
    group: str | None = typer.Option(None, "--group", "-g", help="Only this group."),
    image_format: str = typer.Option("png", "--image-format", help="png | svg"),
    scale: int = typer.Option(10, "--scale", min=1, max=40),
    size: int | None = typer.Option(None, "--size", help="Exact width in pixels."),
    border: int = typer.Option(4, "--border", min=0, max=16),
    include_archived: bool = typer.Option(False, "--include-archived"),
    force: bool = FORCE_OPTION,
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Write a zip of every channel's current code, one file per channel named by it.
    Expired codes are left out unless --force; temporary ones are warned about."""
    chosen = _format_for(output_path, image_format)
    if chosen is ImageFormat.JPG:
        fail("zips hold rendered png or svg files")
    spec = _spec(chosen, scale, size, border, "#000000", "#ffffff")
    with open_workspace() as ws:
        acct = ws.account(account)
        status = None if include_archived else ChannelStatus.ACTIVE
        channels = ws.channels.list_channels(acct.id, group=group, status=status)
        if not channels:
            fail("no channel matches")
        with Progress(console=console, transient=output is OutputFormat.JSON) as progress:
            task = progress.add_task("rendering codes", total=len(channels))
            result = build_zip(
                ws.codes,
                ws.images,
                channels,
                spec,
                now=ws.clock(),
                progress=lambda done, _total: progress.update(task, completed=done),
                force=force,
            )
    for warning in result.warnings:
        warn(warning)
    if result.expired:
        warn(
            f"left out {len(result.expired)} expired code(s) ({', '.join(result.expired)}): "
            "issue new codes, or include them with --force"
        )
    try:
        output_path.write_bytes(result.content)
    except OSError as exc:
        fail(f"cannot write {output_path}: {exc}")
    if output is OutputFormat.JSON:
        emit_json(
            {"file": str(output_path), "files": list(result.files), "skipped": list(result.skipped)}
        )
        return
    console.print(f"wrote {output_path}: {len(result.files)} images")
    if result.skipped:
        console.print(f"[yellow]skipped (no active code):[/] {', '.join(result.skipped)}")


@app.command("resume")
def resume_command(
    older_than_minutes: float = typer.Option(
        ABANDONED_AFTER_SECONDS / 60,
        "--older-than-minutes",
        min=0,
        help="Only reservations made at least this long ago (younger ones may be in flight).",
    ),
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Finish the code reservations a stopped process left pending (wxqr serve's worker
    does it every 5 minutes): ask WeChat again, drop those it refuses."""
    with open_workspace() as ws:
        done = ws.codes.resume_abandoned(older_than_minutes * 60)
    if output is OutputFormat.JSON:
        emit_json({"issued": done.issued, "released": done.released, "left": done.left})
        return
    console.print(
        f"issued {len(done.issued)}, released {len(done.released)} (refused by WeChat), "
        f"left pending {len(done.left)} (WeChat not reachable)"
    )


# posters: styled codes (logos, saved styles), see wxqr.cli.code_style
from wxqr.cli.code_style import logo_app, style_app, styled_command  # noqa: E402

app.add_typer(logo_app, name="logo")
app.add_typer(style_app, name="style")
app.command("styled")(styled_command)


@app.command("expiring")
def expiring_command(
    within: str = typer.Option("7d", "--within", help="e.g. 7d, 48h, 90m."),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Channels whose current temporary code expires within --within (and expired ones)."""
    try:
        seconds = parse_duration(within, field_name="--within")
    except ServiceError as exc:
        fail(exc.detail)
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.lifecycle.expiring(acct.id, seconds)
        now = ws.clock()
    if output is OutputFormat.JSON:
        emit_json(
            [
                {
                    "channel_id": item.channel_id,
                    "channel": item.channel_name,
                    "auto_renew": item.auto_renew,
                    "expired": item.expired,
                    **(code_dict(item.code, now) or {}),
                }
                for item in found
            ]
        )
        return
    if not found:
        console.print(f"no temporary code expires within {within}")
        return
    table = Table("channel", "code", "scene", "expires", "status", "auto-renew")
    for item in found:
        status = "[red]expired[/]" if item.expired else "[yellow]expiring[/]"
        table.add_row(
            escape(item.channel_name),
            str(item.code.id),
            escape(item.code.scene),
            expiry_date(item.code),
            status,
            "yes" if item.auto_renew else "no",
        )
    console.print(table)


@app.command("quota")
def quota_command(
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Today's qrcode/create quota (WeChat's count and wxqr's) and the permanent codes
    against WeChat's 100,000 cap."""
    with open_workspace() as ws:
        usage = ws.quotas.usage(ws.account(account))
    data = {
        "account": usage.appid,
        "day": usage.day,
        "daily_limit": usage.daily_limit,
        "used": usage.used,
        "remaining": usage.remaining,
        "source": usage.source,
        "wechat_used": usage.wechat_used,
        "wxqr_used": usage.wxqr_used,
        "permanent_used": usage.permanent_used,
        "permanent_limit": usage.permanent_limit,
        "permanent_remaining": usage.permanent_remaining,
        "note": usage.note,
    }
    if output is OutputFormat.JSON:
        emit_json(data)
        return
    table = Table(show_header=False, box=None)
    table.add_row("account", usage.appid)
    table.add_row(
        f"qrcode/create today ({usage.day}, China)",
        f"{usage.used:,} used of {usage.daily_limit:,}, {usage.remaining:,} remaining "
        f"(count: {usage.source})",
    )
    table.add_row("made by wxqr today", f"{usage.wxqr_used:,}")
    table.add_row(
        "permanent codes",
        f"{usage.permanent_used:,} of {usage.permanent_limit:,} "
        f"({usage.permanent_remaining:,} remaining)",
    )
    console.print(table)
    if usage.note:
        warn(usage.note)


@app.command("reissue")
def reissue_command(
    group: str | None = typer.Option(None, "--group", "-g", help="Only this group."),
    kind: str = typer.Option("permanent", "--kind", help="permanent | temporary"),
    scene_type: str = typer.Option("id", "--scene-type", help="id | str"),
    expire_days: int | None = typer.Option(None, "--expire-days", min=1, max=30),
    every: bool = typer.Option(
        False,
        "--all",
        help="Also channels whose code is still active (default: only "
        "channels without a code or with an expired one).",
    ),
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Issue a new code for many channels (those whose code expired, or --all), checking
    WeChat's daily quota first; run it again to continue one that stopped."""
    spec = code_spec(kind, scene_type, None, expire_days)
    with open_workspace() as ws:
        acct = ws.account(account)
        channels = ws.channels.list_channels(acct.id, group=group, status=ChannelStatus.ACTIVE)
        if not channels:
            fail("no channel matches")
        with Progress(console=console, transient=output is OutputFormat.JSON) as progress:
            task = progress.add_task("issuing codes", total=len(channels))
            try:
                summary = issue_codes(
                    ws.codes,
                    ws.quotas,
                    acct.id,
                    channels,
                    spec,
                    only_unusable=not every,
                    progress=lambda done, _total: progress.update(task, completed=done),
                    now=ws.clock(),
                )
            except BulkIssueError as exc:
                progress.stop()
                console.print(exc.summary.text())
                fail(exc.detail)
        now = ws.clock()
    if output is OutputFormat.JSON:
        emit_json(
            {
                "issued": [
                    {"channel": c.name, **(code_dict(code, now) or {})}
                    for c, code in summary.issued
                ],
                "skipped": [{"channel": c.name, "reason": why} for c, why in summary.skipped],
                "failed": [{"channel": c.name, "reason": why} for c, why in summary.failed],
            }
        )
        return
    console.print(summary.text())
    for channel, why in summary.failed:
        console.print(f"  [red]failed[/] {escape(channel.name)}: {escape(why)}")
