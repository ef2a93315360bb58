"""The one rule for exporting a code (image, zip, poster): never an expired one unless
forced, and never a temporary one without saying when it stops working.

A temporary code printed on a poster dies silently after at most 30 days; WeChat then
shows scanners an error page. Every export path (CLI, REST API, dashboard, posters) calls
:func:`check_exportable` before making the file: it raises :class:`CodeExpiredError`
for an expired code (unless ``force``), and returns the warning to show for a temporary
code (the CLI prints it to stderr, the API sends it in a ``Warning`` header).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from wxqr.protocol import QRKind
from wxqr.service.codes import Code, CodeStatus
from wxqr.service.errors import ConflictError

__all__ = [
    "EXPIRING",
    "CodeExpiredError",
    "check_exportable",
    "display_status",
    "expiry_date",
    "temporary_warning",
]

#: The status pages show for an active temporary code near its end.
EXPIRING = "expiring"


class CodeExpiredError(ConflictError):
    """The code has expired: its image would only show scanners WeChat's error page."""

    title = "Code expired"


def expiry_date(code: Code) -> str:
    """The code's expiry as ``YYYY-MM-DD HH:MM UTC`` (empty for a permanent code)."""
    if code.expires_at is None:
        return ""
    return datetime.fromtimestamp(code.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def temporary_warning(code: Code) -> str | None:
    """What to tell whoever exports a temporary code (None for a permanent one)."""
    if code.kind is not QRKind.TEMPORARY:
        return None
    return (
        f"code {code.id} is temporary: it stops working on {expiry_date(code)}; "
        "for print, issue a permanent code (`wxqr code issue CHANNEL --kind permanent`, "
        'or POST /api/v1/channels/{id}/codes {"kind": "permanent"}), '
        "or turn on auto-renew for screens"
    )


def check_exportable(code: Code, force: bool, now: float | None = None) -> str | None:
    """Refuse to export an expired code unless ``force``; the warning to show, if any.
    ``now``: the caller's clock (the workspace's ``clock()``), wall time by default."""
    if code.status(time.time() if now is None else now) is CodeStatus.EXPIRED:
        if not force:
            raise CodeExpiredError(
                f"code {code.id} expired on {expiry_date(code)}: scanning it shows WeChat's "
                "error page; issue a new code (`wxqr code issue`, or turn on auto-renew), "
                "or export it anyway with --force / force=true",
                field="force",
            )
        return f"code {code.id} expired on {expiry_date(code)}: exported anyway (forced)"
    return temporary_warning(code)


def display_status(code: Code | None, now: float, soon_seconds: float) -> str:
    """The status to show: ``expiring`` for an active temporary code that expires within
    ``soon_seconds``, else the code's status (``no code`` without one)."""
    if code is None:
        return "no code"
    status = code.status(now)
    if (
        status is CodeStatus.ACTIVE
        and code.expires_at is not None
        and code.expires_at - now <= soon_seconds
    ):
        return EXPIRING
    return status.value
