"""Bulk work on channels: create many from a CSV file, download all their codes as a zip.

The CSV has a header row. Columns (only ``name`` is required; unknown columns are errors
so a typo does not silently drop data)::

    name,group,kind,scene_type,scene,expire_days,tags
    Poster A,posters,permanent,id,,,"spring;print"
    Shop 12,shops,temporary,str,shop-12,7,

``kind`` (alias ``scene_kind``) is ``permanent`` (default) or ``temporary``; ``scene_type``
is ``id`` (default) or ``str``; an empty ``scene`` is allocated; ``expire_days`` (1..30,
default 30) applies to temporary codes; ``tags`` are separated by ``;``.
Every row is checked before anything is created.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wxqr.service.channel_codes import ChannelCodes, ChannelWithCode
from wxqr.service.channels import Channel, ChannelService, NewChannel, validate_name
from wxqr.service.code_images import CodeImages, ImageSpec
from wxqr.service.code_spec import parse_code_spec
from wxqr.service.codes import CodeService, CodeSpec, CodeStatus
from wxqr.service.errors import InvalidInputError, ServiceError

__all__ = [
    "BulkCreated",
    "BulkImportError",
    "BulkRow",
    "ZipResult",
    "build_zip",
    "import_channels",
    "parse_channel_csv",
    "zip_name",
]

Progress = Callable[[int, int], None]  # (done, total)
COLUMNS = frozenset(
    {"name", "group", "kind", "scene_kind", "scene_type", "scene", "expire_days", "tags"}
)
MAX_ROWS = 10_000
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class BulkImportError(ServiceError):
    """A bulk import stopped part way (WeChat refused a code): ``created`` were kept."""

    title = "Bulk import stopped"

    def __init__(self, detail: str, created: Sequence[BulkCreated], reason: ServiceError) -> None:
        super().__init__(detail)
        self.created = tuple(created)
        self.reason = reason  # what stopped it (e.g. an UpstreamError from WeChat)


@dataclass(frozen=True, slots=True)
class BulkRow:
    line: int
    channel: NewChannel
    code: CodeSpec


BulkCreated = ChannelWithCode


def _cell(row: dict[str, str], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value:
            return value.strip()
    return ""


def _code_spec(row: dict[str, str], line: int) -> CodeSpec:
    try:
        return parse_code_spec(
            _cell(row, "kind", "scene_kind"),
            _cell(row, "scene_type"),
            _cell(row, "scene") or None,
            expire_days=_cell(row, "expire_days") or None,
        )
    except InvalidInputError as exc:
        raise InvalidInputError(f"line {line}: {exc.detail}", field=exc.field) from None


def parse_channel_csv(text: str) -> list[BulkRow]:
    """Read and check every row; :class:`InvalidInputError` names the first bad line."""
    try:
        return _parse_channel_csv(text)
    except csv.Error as exc:  # a field over the csv module's limit, a NUL byte...
        raise InvalidInputError(f"the CSV cannot be read: {exc}") from None


def _parse_channel_csv(text: str) -> list[BulkRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in header:
        raise InvalidInputError("the CSV needs a header row with at least a 'name' column")
    unknown = sorted(set(header) - COLUMNS - {""})
    if unknown:
        raise InvalidInputError(
            f"unknown CSV column(s) {', '.join(unknown)}; known: {', '.join(sorted(COLUMNS))}"
        )
    reader.fieldnames = header
    rows: list[BulkRow] = []
    names: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if len(rows) >= MAX_ROWS:
            raise InvalidInputError(f"at most {MAX_ROWS} rows per import")
        cells = {k: (v or "") for k, v in record.items() if isinstance(k, str)}
        if not any(value.strip() for value in cells.values()):
            continue
        try:
            name = validate_name(cells.get("name", ""))
        except InvalidInputError as exc:
            raise InvalidInputError(f"line {line}: {exc}") from None
        if name in names:
            raise InvalidInputError(f"line {line}: {name!r} is already on line {names[name]}")
        names[name] = line
        tags = tuple(t for t in _cell(cells, "tags").split(";") if t.strip())
        channel = NewChannel(name=name, group=_cell(cells, "group") or None, tags=tags)
        rows.append(BulkRow(line=line, channel=channel, code=_code_spec(cells, line)))
    if not rows:
        raise InvalidInputError("the CSV holds no channel rows")
    return rows


def import_channels(
    channels: ChannelService,
    codes: CodeService,
    account_id: int,
    rows: Sequence[BulkRow],
    *,
    progress: Progress | None = None,
) -> list[BulkCreated]:
    """Create every row's channel and code, in order. Names already taken are refused
    before anything is created; if WeChat refuses a code, that row's channel is removed
    and :class:`BulkImportError` reports what was kept."""
    existing = {c.name for c in channels.list_channels(account_id)}
    for row in rows:
        if row.channel.name in existing:
            raise InvalidInputError(
                f"line {row.line}: a channel named {row.channel.name!r} already exists"
            )
    use_case = ChannelCodes(channels, codes)
    created: list[BulkCreated] = []
    for done, row in enumerate(rows, start=1):
        try:
            created.append(use_case.create(account_id, row.channel, row.code))
        except ServiceError as exc:
            raise BulkImportError(
                f"line {row.line}: {exc} — created {len(created)} of {len(rows)} channels",
                created,
                exc,
            ) from None
        if progress is not None:
            progress(done, len(rows))
    return created


def zip_name(channel: Channel, extension: str, used: set[str]) -> str:
    """A file name for the channel's image, safe on every OS and unique in the archive."""
    base = _UNSAFE.sub("_", channel.name).strip(" .") or f"channel-{channel.id}"
    name = f"{base}.{extension}"
    if name.lower() in used:
        name = f"{base}-{channel.id}.{extension}"
    used.add(name.lower())
    return name


@dataclass(frozen=True, slots=True)
class ZipResult:
    content: bytes
    files: tuple[str, ...]
    skipped: tuple[str, ...]  # channels without a usable code


def build_zip(
    codes: CodeService,
    images: CodeImages,
    channels: Sequence[Channel],
    spec: ImageSpec,
    *,
    now: float,
    progress: Progress | None = None,
) -> ZipResult:
    """A zip of the current code image of each channel, named by channel."""
    current = codes.current_codes([c.id for c in channels])
    buffer = io.BytesIO()
    files: list[str] = []
    skipped: list[str] = []
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, channel in enumerate(channels, start=1):
            code = current.get(channel.id)
            if code is None or code.status(now) is not CodeStatus.ACTIVE:
                skipped.append(channel.name)
            else:
                image = images.image(code, spec)
                name = zip_name(channel, image.extension, used)
                archive.writestr(name, image.content)
                files.append(name)
            if progress is not None:
                progress(done, len(channels))
    return ZipResult(buffer.getvalue(), tuple(files), tuple(skipped))
