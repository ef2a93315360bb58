"""``wxqr code logo|style|styled``: logos of codes (per account or channel), the default
style saved per account or group, and a channel's code image in its style."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
from wxqr.service.code_images import ImageFormat

__all__ = ["logo_app", "style_app", "styled_command"]

logo_app = typer.Typer(help="The logo in the middle of styled codes.", no_args_is_help=True)
style_app = typer.Typer(help="The default style of codes.", no_args_is_help=True)

ChannelOption = Annotated[
    str | None, typer.Option("--channel", "-c", help="A channel's own logo (name or id).")
]


@logo_app.command("set")
def logo_set(
    file: Annotated[Path, typer.Argument(help="PNG or JPEG, at most 512 KiB, 1024×1024.")],
    channel: ChannelOption = None,
    account: str | None = ACCOUNT_OPTION,
) -> None:
    """Upload the account's logo (or one channel's own, with --channel)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc}")
    with open_workspace() as ws:
        acct = ws.account(account)
        channel_id = ws.channels.find(acct.id, channel).id if channel else None
        kind = ws.code_styles.set_logo(acct.id, data, channel_id)
    console.print(f"logo set ({kind}) for {'channel ' + channel if channel else acct.appid}")


@logo_app.command("remove")
def logo_remove(channel: ChannelOption = None, account: str | None = ACCOUNT_OPTION) -> None:
    """Remove the account's logo (or one channel's own)."""
    with open_workspace() as ws:
        acct = ws.account(account)
        channel_id = ws.channels.find(acct.id, channel).id if channel else None
        removed = ws.code_styles.remove_logo(acct.id, channel_id)
    console.print("logo removed" if removed else "there was no logo")


def _style_options(
    size: int | None,
    scale: int | None,
    border: int | None,
    error: str | None,
    dark: str | None,
    light: str | None,
    logo: bool | None,
    logo_ratio: float | None,
) -> dict[str, Any]:
    given = {
        "size": size,
        "scale": scale,
        "border": border,
        "error": error,
        "dark": dark,
        "light": light,
        "logo": logo,
        "logo_ratio": logo_ratio,
    }
    return {k: v for k, v in given.items() if v is not None}


SizeOpt = Annotated[int | None, typer.Option("--size", help="Exact width in pixels.")]
ScaleOpt = Annotated[int | None, typer.Option("--scale", help="Pixels per module.")]
BorderOpt = Annotated[int | None, typer.Option("--border", help="Quiet zone (modules).")]
ErrorOpt = Annotated[str | None, typer.Option("--error", help="l | m | q | h")]
DarkOpt = Annotated[str | None, typer.Option("--dark", help="#rrggbb of the modules.")]
LightOpt = Annotated[str | None, typer.Option("--light", help="#rrggbb of the background.")]
LogoOpt = Annotated[bool | None, typer.Option("--logo/--no-logo", help="Draw the logo.")]
RatioOpt = Annotated[
    float | None, typer.Option("--logo-ratio", help="Logo width / symbol width (≤ 0.3).")
]


@style_app.command("set")
def style_set(
    group: Annotated[str | None, typer.Option("--group", "-g", help="A group's style.")] = None,
    size: SizeOpt = None,
    scale: ScaleOpt = None,
    border: BorderOpt = None,
    error: ErrorOpt = None,
    dark: DarkOpt = None,
    light: LightOpt = None,
    logo: LogoOpt = None,
    logo_ratio: RatioOpt = None,
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Save the default style of the account's codes (or of one group's)."""
    options = _style_options(size, scale, border, error, dark, light, logo, logo_ratio)
    with open_workspace() as ws:
        acct = ws.account(account)
        saved = ws.code_styles.set_style(acct.id, options, group)
    if output is OutputFormat.JSON:
        emit_json(saved.to_dict())
    else:
        console.print(f"saved the style of {'group ' + group if group else acct.appid}")


@style_app.command("show")
def style_show(account: str | None = ACCOUNT_OPTION) -> None:
    """Print the saved styles (JSON)."""
    with open_workspace() as ws:
        saved = ws.code_styles.styles(ws.account(account).id)
    emit_json({("(account)" if g is None else g): s.to_dict() for g, s in saved.items()})


@style_app.command("remove")
def style_remove(
    group: Annotated[str | None, typer.Option("--group", "-g")] = None,
    account: str | None = ACCOUNT_OPTION,
) -> None:
    """Remove the account's saved style (or a group's)."""
    with open_workspace() as ws:
        removed = ws.code_styles.remove_style(ws.account(account).id, group)
    console.print("style removed" if removed else "there was no saved style")


def styled_command(
    channel: Annotated[str, typer.Argument(help="Channel name or id.")],
    output_path: Annotated[Path, typer.Option("--output", "-o", help="png or svg file.")],
    size: SizeOpt = None,
    scale: ScaleOpt = None,
    border: BorderOpt = None,
    error: ErrorOpt = None,
    dark: DarkOpt = None,
    light: LightOpt = None,
    logo: LogoOpt = None,
    logo_ratio: RatioOpt = None,
    account: str | None = ACCOUNT_OPTION,
) -> None:
    """Write the channel's code in its saved style (group's, else account's), with any
    option given over it; refused when the result would not scan."""
    suffix = output_path.suffix.lstrip(".").lower() or "png"
    if suffix not in ("png", "svg"):
        fail("styled codes are .png or .svg files")
    options = _style_options(size, scale, border, error, dark, light, logo, logo_ratio)
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.channels.find(acct.id, channel)
        image = ws.code_styles.styled_image(found.id, options, ImageFormat(suffix))
    try:
        output_path.write_bytes(image.content)
    except OSError as exc:
        fail(f"cannot write {output_path}: {exc}")
    console.print(f"wrote {output_path} ({len(image.content)} bytes, {image.content_type})")
