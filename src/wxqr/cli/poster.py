"""``wxqr poster``: poster templates (add, list, layout, preview, remove) and posters of
one channel or a whole group (a zip, rendered by a pool of processes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
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
from wxqr.cli.code import warn  # export warnings: stderr, the same words as `code image`
from wxqr.service.posters import PosterTemplate

__all__ = ["app"]

app = typer.Typer(help="Posters: a channel's code on campaign artwork.", no_args_is_help=True)
template_app = typer.Typer(help="Poster templates: artwork and layout.", no_args_is_help=True)
app.add_typer(template_app, name="template")

LAYOUT_HELP = (
    "The layout as JSON, or @FILE: "
    '{"code": {"x", "y", "size"}, "captions": [{"text", "x", "y", "width", "font_size", '
    '"colour", "align", "wrap"}]}'
)


def template_dict(template: PosterTemplate) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "artwork_type": template.artwork_type,
        "width": template.width,
        "height": template.height,
        "layout": template.layout.to_dict(),
        "updated_at": template.updated_at,
    }


def _layout(
    raw: str | None, code: str | None, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The layout from ``--layout`` (JSON or @file; else ``base``) with ``--code X,Y,SIZE``
    over it."""
    data: Any = dict(base or {})
    if raw:
        text = raw
        if raw.startswith("@"):
            try:
                text = Path(raw[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                fail(f"cannot read {raw[1:]}: {exc}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            fail(f"--layout is not JSON: {exc}")
        if not isinstance(data, dict):
            fail("--layout must be a JSON object")
    if code:
        parts = code.split(",")
        if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
            fail("--code must be X,Y,SIZE in pixels of the artwork, e.g. 1040,2300,400")
        x, y, size = (int(p) for p in parts)
        data["code"] = {**data.get("code", {}), "x": x, "y": y, "size": size}
    if "code" not in data:
        fail("say where the code goes: --code X,Y,SIZE or a layout with `code`")
    return dict(data)


@template_app.command("add")
def template_add(
    name: Annotated[str, typer.Argument(help="The template's name (unique per account).")],
    artwork: Annotated[Path, typer.Option("--artwork", help="PNG or JPEG artwork file.")],
    layout: Annotated[str | None, typer.Option("--layout", help=LAYOUT_HELP)] = None,
    code: Annotated[str | None, typer.Option("--code", help="The code's box: X,Y,SIZE.")] = None,
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Add a template: the artwork and where the code and captions go on it."""
    data = _layout(layout, code)
    try:
        content = artwork.read_bytes()
    except OSError as exc:
        fail(f"cannot read {artwork}: {exc}")
    with open_workspace() as ws:
        acct = ws.account(account)
        made = ws.posters.add_template(acct.id, name, content, data)
    if output is OutputFormat.JSON:
        emit_json(template_dict(made))
    else:
        console.print(f"added template {made.name!r} ({made.width}×{made.height}, id {made.id})")


@template_app.command("list")
def template_list(
    account: str | None = ACCOUNT_OPTION, output: OutputFormat = FORMAT_OPTION
) -> None:
    """List the account's templates."""
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.posters.list_templates(acct.id)
    if output is OutputFormat.JSON:
        emit_json([template_dict(t) for t in found])
        return
    table = Table("id", "name", "artwork", "code box", "captions")
    for t in found:
        box = t.layout.code
        table.add_row(
            str(t.id),
            t.name,
            f"{t.width}×{t.height} {t.artwork_type}",
            f"{box.size} px at ({box.x}, {box.y})",
            str(len(t.layout.captions)),
        )
    console.print(table)


@template_app.command("layout")
def template_layout(
    name: Annotated[str, typer.Argument(help="Template name or id.")],
    layout: Annotated[str | None, typer.Option("--layout", help=LAYOUT_HELP)] = None,
    code: Annotated[str | None, typer.Option("--code", help="The code's box: X,Y,SIZE.")] = None,
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Change a template's layout (checked like a new one)."""
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.posters.find_template(acct.id, name)
        data = _layout(layout, code, found.layout.to_dict())
        changed = ws.posters.update_layout(found.id, data)
    if output is OutputFormat.JSON:
        emit_json(template_dict(changed))
    else:
        console.print(f"changed the layout of template {changed.name!r}")


@template_app.command("remove")
def template_remove(
    name: Annotated[str, typer.Argument(help="Template name or id.")],
    account: str | None = ACCOUNT_OPTION,
) -> None:
    """Remove a template (posters already made are not affected)."""
    with open_workspace() as ws:
        acct = ws.account(account)
        removed = ws.posters.remove_template(ws.posters.find_template(acct.id, name).id)
    console.print(f"removed template {removed.name!r}")


def _format_for(path: Path, chosen: str | None) -> str:
    name = (chosen or path.suffix.lstrip(".") or "png").lower()
    return "jpeg" if name == "jpg" else name


@app.command("render")
def render_command(
    channel: Annotated[str | None, typer.Argument(help="Channel name or id.")] = None,
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="Template name or id.")
    ] = None,
    output_path: Annotated[
        Path | None, typer.Option("--output", "-o", help="Poster file (one channel).")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Every active channel of the group.")
    ] = None,
    zip_path: Annotated[
        Path | None, typer.Option("--zip", help="Zip file of a group's posters.")
    ] = None,
    image_format: Annotated[
        str | None,
        typer.Option(
            "--image-format", help="png | jpeg | pdf (default: from the file suffix; jpeg in zips)"
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=16, help="Processes.")] = 2,
    account: str | None = ACCOUNT_OPTION,
    output: OutputFormat = FORMAT_OPTION,
) -> None:
    """Render a channel's poster (CHANNEL -o FILE) or a group's (--group G --zip FILE)."""
    if zip_path is not None:
        if channel is not None:
            fail("give either CHANNEL (with -o) or --zip (with --group), not both")
        _render_zip(zip_path, template, group, image_format or "jpeg", workers, account, output)
        return
    if channel is None:
        fail("name a channel (CHANNEL -o poster.png) or a zip (--group G --zip posters.zip)")
    with open_workspace() as ws:
        acct = ws.account(account)
        found = ws.channels.find(acct.id, channel)
        # Default file: poster-<channel id>.png (a channel's name may hold a slash).
        path = output_path or Path(f"poster-{found.id}.{_format_for(Path(), image_format)}")
        fmt = _format_for(path, image_format)
        poster = ws.posters.channel_poster(found.id, template, fmt)
    try:
        path.write_bytes(poster.content)
    except OSError as exc:
        fail(f"cannot write {path}: {exc}")
    if poster.warning is not None:
        warn(poster.warning)
    data = {"file": str(path), "bytes": len(poster.content), "code_id": poster.code.id}
    if output is OutputFormat.JSON:
        emit_json({**data, "content_type": poster.content_type})
    else:
        console.print(f"wrote {path} ({len(poster.content)} bytes, {poster.content_type})")


def _render_zip(
    path: Path,
    template: str | None,
    group: str | None,
    fmt: str,
    workers: int,
    account: str | None,
    output: OutputFormat,
) -> None:
    partial = path.with_name(path.name + ".part")
    with open_workspace() as ws:
        acct = ws.account(account)
        columns = (
            *Progress.get_default_columns()[:1],
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        try:
            out = partial.open("wb")
        except OSError as exc:
            fail(f"cannot write {path}: {exc}")
        try:
            with (
                out,
                Progress(*columns, console=console, transient=output is OutputFormat.JSON) as bar,
            ):
                task = bar.add_task("rendering posters", total=None)
                result = ws.posters.write_zip(
                    acct.id,
                    template,
                    out,
                    group=group,
                    fmt=_format_for(path, fmt),
                    workers=workers,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(path)
    if result.warnings:
        more = len(result.warnings) - 1
        warn(result.warnings[0] + (f" (and {more} more temporary code(s))" if more else ""))
    if output is OutputFormat.JSON:
        emit_json({"file": str(path), "files": list(result.files), "skipped": list(result.skipped)})
        return
    console.print(f"wrote {path}: {len(result.files)} posters")
    if result.skipped:
        console.print(f"[yellow]skipped (no active code):[/] {', '.join(result.skipped)}")
