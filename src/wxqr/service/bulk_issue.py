"""Issue new codes for many channels at once (``wxqr code reissue``), inside the quota.

The case it serves: a group's temporary codes have expired (or a campaign moves from
temporary to permanent codes) and every channel needs a new code. Like the CSV import it
is bulk work: the quota is checked first and a job that cannot finish today is refused
before any call, saying how many it can do; WeChat's 45009/45029 stop it cleanly, with
what was issued kept (running it again with ``only_unusable`` continues).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wxqr.protocol import QRKind
from wxqr.service.channels import Channel
from wxqr.service.codes import Code, CodeService, CodeSpec, CodeStatus
from wxqr.service.errors import (
    ConflictError,
    InvalidInputError,
    LimitReachedError,
    ServiceError,
    UpstreamError,
)
from wxqr.service.quotas import QuotaService

__all__ = ["BulkIssueError", "IssueSummary", "issue_codes"]

Progress = Callable[[int, int], None]


@dataclass
class IssueSummary:
    issued: list[tuple[Channel, Code]] = field(default_factory=list)
    skipped: list[tuple[Channel, str]] = field(default_factory=list)
    failed: list[tuple[Channel, str]] = field(default_factory=list)

    def text(self) -> str:
        return f"issued {len(self.issued)}, skipped {len(self.skipped)}, failed {len(self.failed)}"


class BulkIssueError(ServiceError):
    """WeChat stopped the job (quota, permanent cap, unreachable): ``summary`` has what
    was done."""

    title = "Bulk issue stopped"

    def __init__(self, detail: str, reason: ServiceError, summary: IssueSummary) -> None:
        super().__init__(detail)
        self.reason = reason
        self.summary = summary


def issue_codes(
    codes: CodeService,
    quotas: QuotaService | None,
    account_id: int,
    channels: Sequence[Channel],
    spec: CodeSpec,
    *,
    only_unusable: bool = True,
    progress: Progress | None = None,
    now: float,
) -> IssueSummary:
    """A new code of ``spec`` (its scene allocated) for each channel; with
    ``only_unusable``, only for channels whose current code is missing or expired."""
    if spec.scene is not None:
        raise InvalidInputError("a bulk issue allocates scenes: leave the scene out", field="scene")
    summary = IssueSummary()
    current = codes.current_codes([c.id for c in channels])
    todo: list[Channel] = []
    for channel in channels:
        code = current.get(channel.id)
        if only_unusable and code is not None and code.status(now) is CodeStatus.ACTIVE:
            summary.skipped.append((channel, "its code is still active"))
        else:
            todo.append(channel)
    if quotas is not None and todo:
        permanent = len(todo) if spec.kind is QRKind.PERMANENT else 0
        quotas.check_room_of(account_id, len(todo), permanent=permanent, job="this reissue")
    done = len(summary.skipped)
    for channel in todo:
        try:
            summary.issued.append((channel, codes.issue(channel.id, spec)))
        except (ConflictError, InvalidInputError) as exc:
            summary.failed.append((channel, exc.detail))
        except (LimitReachedError, UpstreamError) as exc:
            raise BulkIssueError(
                f"{channel.name!r}: {exc} — {summary.text()} of {len(channels)} channels; "
                "run it again to continue",
                exc,
                summary,
            ) from None
        done += 1
        if progress is not None:
            progress(done, len(channels))
    return summary
