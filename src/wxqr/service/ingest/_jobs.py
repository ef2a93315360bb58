"""Which background jobs a newly recorded push enqueues (run by :mod:`wxqr.service.worker`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wxqr.service.jobs import JobKind

from ._model import IncomingPush, SceneInfo

__all__ = ["JobPolicy", "jobs_for"]


@dataclass(frozen=True, slots=True)
class JobPolicy:
    """Which jobs to enqueue: accounts that can call WeChat, and whether to fetch user info."""

    wechat_accounts: frozenset[int] = frozenset()
    fetch_user_info: bool = True


def jobs_for(
    item: IncomingPush, scene: SceneInfo | None, policy: JobPolicy
) -> Sequence[tuple[JobKind, dict[str, Any]]]:
    """The (kind, payload) jobs a newly recorded push needs."""
    if item.account_id not in policy.wechat_accounts:
        return ()
    jobs: list[tuple[JobKind, dict[str, Any]]] = []
    if item.is_scan and scene is not None and scene.follower_tags:
        jobs.append(
            (JobKind.TAG_FOLLOWER, {"openid": item.openid, "tags": list(scene.follower_tags)})
        )
    if policy.fetch_user_info and item.kind in ("subscribe_scan", "subscribe"):
        jobs.append((JobKind.USER_INFO, {"openid": item.openid}))
    return jobs
