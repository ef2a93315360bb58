"""A bulk import with a report per row: every row of the CSV checked and reported (not
only the first bad one), then, when all are good, every row created and reported.

The rules are those of :mod:`wxqr.service.bulk` (same columns, same checks, the same
:func:`~wxqr.service.bulk.import_channels` doing the work); this module only runs the
check row by row so a person fixing a spreadsheet sees every problem at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from wxqr.service.bulk import BulkCreated, BulkImportError, import_channels, parse_channel_csv
from wxqr.service.channels import ChannelService
from wxqr.service.codes import CodeService
from wxqr.service.errors import InvalidInputError

__all__ = ["ImportReport", "RowReport", "import_with_report"]


@dataclass(frozen=True, slots=True)
class RowReport:
    line: int
    name: str
    error: str | None = None  # why the row cannot be imported (or failed)
    created: BulkCreated | None = None
    skipped: str | None = None  # why the row was skipped (done by an earlier upload)


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: tuple[RowReport, ...]
    imported: bool  # False: nothing was created (see the rows' errors)
    stopped: str | None = None  # why an import stopped part way (rows before it were kept)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.error)


def _one_row_csv(header: list[str], record: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerow(record)
    return out.getvalue()


def _check_rows(text: str) -> list[RowReport]:
    """Every data row checked on its own, with the whole-file rules (unique names).
    Names of existing channels are import_channels' business: a row already done by an
    earlier upload of the same file is skipped (a re-upload resumes), a different channel
    of that name refuses the file."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader)
    reports: list[RowReport] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        named = dict(zip((h.strip().lower() for h in header), record, strict=False))
        name = (named.get("name") or "").strip()
        try:
            row = parse_channel_csv(_one_row_csv(header, record))[0]
        except InvalidInputError as exc:
            reports.append(RowReport(line, name, exc.detail.replace("line 2: ", "", 1)))
            continue
        name = row.channel.name
        if name in seen:
            reports.append(RowReport(line, name, f"{name!r} is already on line {seen[name]}"))
        else:
            reports.append(RowReport(line, name))
        seen.setdefault(name, line)
    return reports


def import_with_report(
    channels: ChannelService, codes: CodeService, account_id: int, text: str
) -> ImportReport:
    """Check every row; if all are good, create them all (``import_channels``).

    A problem of the file itself (no header, unknown columns, too many rows, unreadable)
    is raised as :class:`InvalidInputError`, as by the CLI and the API."""
    try:
        rows = parse_channel_csv(text)
    except InvalidInputError as exc:
        if not exc.detail.startswith("line "):
            raise
        rows = []
    try:
        checked = _check_rows(text)
    except csv.Error as exc:  # pragma: no cover - parse_channel_csv read it already
        raise InvalidInputError(f"the CSV cannot be read: {exc}") from None
    if not rows or any(r.error for r in checked):
        return ImportReport(rows=tuple(checked), imported=False)
    try:
        summary = import_channels(channels, codes, account_id, rows)
    except BulkImportError as exc:
        kept = {c.channel.name: c for c in exc.created}
        report = tuple(
            RowReport(r.line, r.channel.name, created=kept.get(r.channel.name)) for r in rows
        )
        return ImportReport(rows=report, imported=True, stopped=exc.detail)
    by_name = {c.channel.name: c for c in summary.created}
    skipped = {s.line: s.reason for s in summary.skipped}
    failed = {f.line: f.reason for f in summary.failed}
    return ImportReport(
        rows=tuple(
            RowReport(
                r.line,
                r.channel.name,
                error=failed.get(r.line),
                created=by_name.get(r.channel.name),
                skipped=skipped.get(r.line),
            )
            for r in rows
        ),
        imported=True,
    )
