"""The followers row: how follows, scans and unfollows change it.

The transitions are pure (:func:`apply_event`) and order-tolerant: an event older than
the row's latest follow/unfollow does not flip ``following`` back. Rules:

* follow (subscribe_scan, subscribe): a new row is a first follow. On a known row a
  follow newer than the last follow and unfollow is a re-follow (``refollow_count`` +1)
  unless wxqr had only seen scans of this user (then it is the first follow it saw).
  ``first_*`` is filled once; ``last_*`` follows the newest follow.
* scan: the user follows (WeChat sends SCAN only to followers); a new row has no
  follow time (the follow predates wxqr).
* unsubscribe: ``following`` false and ``unfollowed_at`` set, unless a newer follow exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["FollowerState", "apply_event", "follower_changes", "state_from_row"]


@dataclass(frozen=True, slots=True)
class FollowerState:
    following: bool
    first_follow_at: int | None = None
    first_scene: str | None = None
    first_channel_id: int | None = None
    last_follow_at: int | None = None
    last_scene: str | None = None
    last_channel_id: int | None = None
    unfollowed_at: int | None = None
    refollow_count: int = 0


def _follow(
    state: FollowerState | None, at: int, scene: str | None, channel: int | None
) -> FollowerState:
    if state is None:
        return FollowerState(True, at, scene, channel, at, scene, channel, None, 0)
    newest = max(state.last_follow_at or 0, state.unfollowed_at or 0)
    if at < newest or (at == state.last_follow_at and state.following):
        # Older than what the row already knows (or the same follow again).
        if state.first_follow_at is None or at < state.first_follow_at:
            return replace(state, first_follow_at=at, first_scene=scene, first_channel_id=channel)
        return state
    seen_follow_or_unfollow = state.first_follow_at is not None or state.unfollowed_at is not None
    first = (
        (at, scene, channel)
        if state.first_follow_at is None
        else (state.first_follow_at, state.first_scene, state.first_channel_id)
    )
    return FollowerState(
        following=True,
        first_follow_at=first[0],
        first_scene=first[1],
        first_channel_id=first[2],
        last_follow_at=at,
        last_scene=scene,
        last_channel_id=channel,
        unfollowed_at=state.unfollowed_at,
        refollow_count=state.refollow_count + (1 if seen_follow_or_unfollow else 0),
    )


def _scan(state: FollowerState | None, at: int) -> FollowerState:
    if state is None:
        return FollowerState(True)
    if not state.following and at > (state.unfollowed_at or 0):
        return replace(state, following=True)
    return state


def _unfollow(state: FollowerState | None, at: int) -> FollowerState:
    if state is None:
        return FollowerState(False, unfollowed_at=at)
    if at < (state.last_follow_at or 0):
        return state  # a newer follow exists
    if not state.following and state.unfollowed_at is not None:
        return state  # already unfollowed: keep the first unfollow time
    return replace(state, following=False, unfollowed_at=at)


def apply_event(
    state: FollowerState | None,
    kind: str,
    *,
    at: int,
    scene: str | None = None,
    channel_id: int | None = None,
) -> FollowerState | None:
    """The follower row after an event of ``kind`` at ``at`` (None: no row, no change)."""
    if kind in ("subscribe_scan", "subscribe"):
        return _follow(state, at, scene, channel_id)
    if kind == "scan":
        return _scan(state, at)
    if kind == "unsubscribe":
        return _unfollow(state, at)
    return state


def state_from_row(row: Sequence[Any]) -> FollowerState:
    """A state from the FOLLOWER_STATE_COLUMNS of a stored row."""
    following, *rest = row
    return FollowerState(bool(following), *rest)


def _values(state: FollowerState) -> tuple[Any, ...]:
    return (
        state.following,
        state.first_follow_at,
        state.first_scene,
        state.first_channel_id,
        state.last_follow_at,
        state.last_scene,
        state.last_channel_id,
        state.unfollowed_at,
        state.refollow_count,
    )


def follower_changes(
    before: Mapping[tuple[int, str], FollowerState],
    after: Mapping[tuple[int, str], FollowerState],
    *,
    now: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows to insert (account_id, openid, *state, updated_at) and to update
    (*state, updated_at, account_id, openid)."""
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for key, state in after.items():
        old = before.get(key)
        if old == state:
            continue
        if old is None:
            inserts.append((key[0], key[1], *_values(state), now))
        else:
            updates.append((*_values(state), now, key[0], key[1]))
    return inserts, updates
