"""Bulk work on channels: create many from a CSV file, download all their codes as a zip.

The CSV has a header row. Columns (only ``name`` is required; unknown columns are errors
so a typo does not silently drop data)::

    name,group,kind,scene_type,scene,expire_days,tags,reply,payload,follower_tags
    Poster A,posters,permanent,id,,,"spring;print",Welcome!,"{""shop"": 1}",vip
    Shop 12,shops,temporary,str,shop-12,7,,,,

``kind`` (alias ``scene_kind``) is ``permanent`` (default) or ``temporary``; ``scene_type``
is ``id`` (default) or ``str``; an empty ``scene`` is allocated; ``expire_days`` (1..30,
default 30) applies to temporary codes; ``tags`` and ``follower_tags`` are separated by
``;``; ``reply`` is the text replied to a scan (or a JSON reply object); ``payload`` is
JSON (an object, array, number…) or else kept as text.
Every row is checked before anything is created.

Imports are **resumable** (issue 19): a row whose channel already exists *and matches*
(same group; its code of the same kind and scene, or no code yet, which is then issued) is
skipped, so re-running the CSV of an interrupted import continues where it stopped. A row
whose name is taken by a different channel refuses the import before anything is created,
unless ``skip_existing`` (then it is skipped too). The quota is checked first: an import
that cannot finish today is refused before any call, saying how many it can do.
WeChat's refusals stop the import cleanly (:class:`BulkImportError`, with what was done);
a row's own problem (its scene is taken) is reported as failed and the rest goes on.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wxqr.protocol import QRKind
from wxqr.service.channel_codes import ChannelCodes, ChannelWithCode
from wxqr.service.channels import Channel, ChannelService, NewChannel, validate_name
from wxqr.service.code_expiry import CodeExpiredError, check_exportable
from wxqr.service.code_images import CodeImages, ImageSpec
from wxqr.service.code_spec import parse_code_spec
from wxqr.service.codes import Code, CodeService, CodeSpec, CodeStatus
from wxqr.service.errors import (
    ConflictError,
    InvalidInputError,
    LimitReachedError,
    ServiceError,
    UpstreamError,
)
from wxqr.service.quotas import QuotaService
from wxqr.service.replies import InvalidReply, reply_from_input

__all__ = [
    "BulkCreated",
    "BulkImportError",
    "BulkRow",
    "BulkSummary",
    "FailedRow",
    "SkippedRow",
    "ZipResult",
    "build_zip",
    "import_channels",
    "parse_channel_csv",
    "zip_name",
]

Progress = Callable[[int, int], None]  # (done, total)
COLUMNS = frozenset(
    {
        "name",
        "group",
        "kind",
        "scene_kind",
        "scene_type",
        "scene",
        "expire_days",
        "tags",
        "reply",
        "payload",
        "follower_tags",
    }
)
MAX_ROWS = 10_000
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')

BulkCreated = ChannelWithCode


@dataclass(frozen=True, slots=True)
class SkippedRow:
    line: int
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class FailedRow:
    line: int
    name: str
    reason: str


@dataclass
class BulkSummary:
    """What an import did: rows created (or finished), skipped and failed, with reasons."""

    created: list[BulkCreated] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    failed: list[FailedRow] = field(default_factory=list)

    def text(self) -> str:
        return (
            f"created {len(self.created)}, skipped {len(self.skipped)}, failed {len(self.failed)}"
        )


class BulkImportError(ServiceError):
    """A bulk import stopped part way (WeChat refused, the quota ran out): what was done
    is kept and in ``summary``; re-running the CSV continues."""

    title = "Bulk import stopped"

    def __init__(
        self,
        detail: str,
        created: Sequence[BulkCreated],
        reason: ServiceError,
        summary: BulkSummary | None = None,
    ) -> None:
        super().__init__(detail)
        self.created = tuple(created)
        self.reason = reason  # what stopped it (e.g. an UpstreamError from WeChat)
        self.summary = summary or BulkSummary(created=list(created))


@dataclass(frozen=True, slots=True)
class BulkRow:
    line: int
    channel: NewChannel
    code: CodeSpec


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


def _payload(text: str, line: int) -> Any:
    if not text:
        return None
    if text[0] in '{["' or text in ("true", "false", "null") or _is_number(text):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidInputError(f"line {line}: payload is not JSON: {exc}") from None
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _reply(text: str, line: int) -> Any:
    value: Any = text or None
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise InvalidInputError(f"line {line}: reply is not JSON: {exc}") from None
    try:
        return reply_from_input(value)
    except InvalidReply as exc:
        raise InvalidInputError(f"line {line}: {exc}", field="reply") from None


def _list(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(";") if t.strip())


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
        channel = NewChannel(
            name=name,
            group=_cell(cells, "group") or None,
            tags=_list(_cell(cells, "tags")),
            payload=_payload(_cell(cells, "payload"), line),
            reply=_reply(_cell(cells, "reply"), line),
            follower_tags=_list(_cell(cells, "follower_tags")),
        )
        rows.append(BulkRow(line=line, channel=channel, code=_code_spec(cells, line)))
    if not rows:
        raise InvalidInputError("the CSV holds no channel rows")
    return rows


def _mismatch(row: BulkRow, channel: Channel, code: Code | None) -> str | None:
    """Why the existing ``channel`` is not what ``row`` asks for (None: it is)."""
    if (channel.group or None) != (row.channel.group or None):
        return f"its group is {channel.group!r}, the row says {row.channel.group!r}"
    if code is None:
        return None
    if code.kind is not row.code.kind:
        return f"its code is {code.kind.value}, the row asks for {row.code.kind.value}"
    if row.code.scene is not None and str(row.code.scene) != code.scene:
        return f"its code's scene is {code.scene!r}, the row asks for {row.code.scene!r}"
    if row.code.scene is None and code.scene_type is not row.code.scene_type:
        wanted = row.code.scene_type.value
        return f"its scene type is {code.scene_type.value}, the row asks for {wanted}"
    return None


@dataclass(frozen=True, slots=True)
class _Plan:
    row: BulkRow
    existing: Channel | None  # a matching channel without a code: issue its code


def import_channels(
    channels: ChannelService,
    codes: CodeService,
    account_id: int,
    rows: Sequence[BulkRow],
    *,
    progress: Progress | None = None,
    skip_existing: bool = False,
    quotas: QuotaService | None = None,
) -> BulkSummary:
    """Create every row's channel and code, in order, skipping rows already done (see the
    module's doc). Names taken by different channels are refused before anything is
    created (unless ``skip_existing``); with ``quotas``, an import that today's WeChat
    quota cannot finish is refused before any call."""
    summary = BulkSummary()
    existing = {c.name: c for c in channels.list_channels(account_id)}
    current = codes.current_codes([c.id for c in existing.values()])
    plans: list[_Plan] = []
    done = 0
    for row in rows:
        found = existing.get(row.channel.name)
        if found is None:
            plans.append(_Plan(row, None))
            continue
        code = current.get(found.id)
        why = _mismatch(row, found, code)
        if why is not None and not skip_existing:
            raise InvalidInputError(
                f"line {row.line}: a channel named {row.channel.name!r} already exists and "
                f"differs ({why}); rename the row, or skip it with --skip-existing "
                "(API: skip_existing=true)"
            )
        if why is None and code is None:
            plans.append(_Plan(row, found))  # interrupted after the channel: finish it
            continue
        reason = "already imported" if why is None else f"exists and differs: {why}"
        summary.skipped.append(SkippedRow(row.line, row.channel.name, reason))
    if quotas is not None and plans:
        permanent = sum(1 for p in plans if p.row.code.kind is QRKind.PERMANENT)
        quotas.check_room_of(account_id, len(plans), permanent=permanent, job="this import")
    total = len(rows)
    done = len(summary.skipped)
    if progress is not None and done:
        progress(done, total)
    use_case = ChannelCodes(channels, codes)
    for plan in plans:
        row = plan.row
        try:
            if plan.existing is None:
                summary.created.append(use_case.create(account_id, row.channel, row.code))
            else:
                issued = codes.issue(plan.existing.id, row.code)
                summary.created.append(ChannelWithCode(plan.existing, issued))
        except (ConflictError, InvalidInputError) as exc:  # this row's own problem
            summary.failed.append(FailedRow(row.line, row.channel.name, exc.detail))
        except (LimitReachedError, UpstreamError) as exc:  # WeChat's: stop cleanly
            raise BulkImportError(
                f"line {row.line}: {exc} — created {len(summary.created)} of {total} rows "
                f"(skipped {len(summary.skipped)}, failed {len(summary.failed)}); "
                "re-run the same CSV to continue",
                summary.created,
                exc,
                summary,
            ) from None
        done += 1
        if progress is not None:
            progress(done, total)
    return summary


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
    skipped: tuple[str, ...]  # channels without a usable code (none, pending, expired)
    expired: tuple[str, ...] = ()  # of those: channels whose code has expired
    warnings: tuple[str, ...] = ()  # temporary codes that will stop working (and forced ones)


def build_zip(
    codes: CodeService,
    images: CodeImages,
    channels: Sequence[Channel],
    spec: ImageSpec,
    *,
    now: float,
    progress: Progress | None = None,
    force: bool = False,
) -> ZipResult:
    """A zip of the current code image of each channel, named by channel. Expired codes
    are left out (listed in ``skipped`` and ``expired``) unless ``force``; temporary ones
    come with a warning (lifecycle: :func:`wxqr.service.code_expiry.check_exportable`)."""
    current = codes.current_codes([c.id for c in channels])
    buffer = io.BytesIO()
    files: list[str] = []
    skipped: list[str] = []
    expired: list[str] = []
    warnings: list[str] = []
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, channel in enumerate(channels, start=1):
            code = current.get(channel.id)
            status = None if code is None else code.status(now)
            if code is None or status is CodeStatus.PENDING:
                skipped.append(channel.name)
            else:
                try:
                    warning = check_exportable(code, force, now)
                except CodeExpiredError:
                    skipped.append(channel.name)
                    expired.append(channel.name)
                    warning = None
                else:
                    image = images.image(code, spec)
                    name = zip_name(channel, image.extension, used)
                    archive.writestr(name, image.content)
                    files.append(name)
                if warning is not None:
                    warnings.append(f"{channel.name}: {warning}")
            if progress is not None:
                progress(done, len(channels))
    return ZipResult(
        buffer.getvalue(),
        tuple(files),
        tuple(skipped),
        tuple(expired),
        tuple(warnings),
    )
