"""Unfollow attribution models (docs/metrics.md, "Unfollow attribution").

An unfollow belongs to a channel only through a follow of the same openid *before* it in
the log order ``(create_time, id)``: its first such follow (``first_touch``, the default:
wxqr's acquiring channel) or its latest one (``last_touch``: the follow this unfollow
ends, as WeChat's data cube credits it). Computed from the log order, so the arrival order
of the pushes never changes the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum

__all__ = ["Attribution", "Touch", "unfollow_touches"]


class Attribution(StrEnum):
    """Which follow an unfollow is credited to."""

    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"


Touch = tuple[int, int, str, int | None]  # (create_time, id, kind, channel_id)


def unfollow_touches(
    events: Iterable[Touch],
) -> Iterator[tuple[int, int | None, int | None]]:
    """``(create_time, first-touch channel, last-touch channel)`` of each unfollow among
    one openid's follows and unfollows (any order): None where no follow precedes it or
    the follow was through no channel."""
    seen_follow = False
    first: int | None = None
    last: int | None = None
    for create_time, _id, kind, channel in sorted(events, key=lambda t: (t[0], t[1])):
        if kind == "unsubscribe":
            yield create_time, first, last
        else:
            if not seen_follow:
                first, seen_follow = channel, True
            last = channel
