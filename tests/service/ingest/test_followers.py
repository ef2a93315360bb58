"""Follower row transitions (pure), including pushes that arrive out of order."""

from __future__ import annotations

from wxqr.service.ingest._followers import FollowerState, apply_event


def test_first_follow_then_unfollow_then_refollow() -> None:
    state = apply_event(None, "subscribe_scan", at=100, scene="1", channel_id=10)
    assert state == FollowerState(True, 100, "1", 10, 100, "1", 10, None, 0)
    state = apply_event(state, "unsubscribe", at=200)
    assert state is not None
    assert (state.following, state.unfollowed_at) == (False, 200)
    state = apply_event(state, "subscribe", at=300)
    assert state == FollowerState(True, 100, "1", 10, 300, None, None, 200, 1)


def test_a_repeated_unsubscribe_keeps_the_first_time() -> None:
    state = apply_event(None, "subscribe", at=100)
    state = apply_event(state, "unsubscribe", at=200)
    state = apply_event(state, "unsubscribe", at=205)
    assert state is not None
    assert state.unfollowed_at == 200


def test_scan_of_an_unknown_follower_creates_a_following_row_without_follow_time() -> None:
    state = apply_event(None, "scan", at=100, scene="5", channel_id=3)
    assert state == FollowerState(True)
    # wxqr never saw them follow: their next follow is the first one it sees.
    state = apply_event(
        apply_event(state, "unsubscribe", at=150), "subscribe_scan", at=160, scene="5", channel_id=3
    )
    assert state is not None
    assert (state.first_follow_at, state.first_channel_id, state.refollow_count) == (160, 3, 1)


def test_out_of_order_pushes_do_not_flip_the_state_back() -> None:
    state = apply_event(None, "unsubscribe", at=200)
    state = apply_event(state, "subscribe_scan", at=100, scene="1", channel_id=10)
    assert state is not None
    assert state.following is False
    assert (state.first_follow_at, state.first_channel_id) == (100, 10)
    followed = apply_event(None, "subscribe", at=300)
    assert apply_event(followed, "unsubscribe", at=250) == followed


def test_other_kinds_leave_the_row_alone() -> None:
    state = apply_event(None, "subscribe", at=1)
    assert apply_event(state, "message", at=2) is state
    assert apply_event(None, "other_event", at=2) is None
