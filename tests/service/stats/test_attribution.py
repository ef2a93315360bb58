"""Unfollow attribution (docs/metrics.md, "Unfollow attribution"): first touch and last
touch from the log order, whatever the arrival order, on the rollups and on the log.

Runs on SQLite, and on PostgreSQL when it is configured.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from wxqr.service.stats import Attribution, StatsError, StatsService

from ._log import LogWriter

DAY = date(2024, 5, 2)


def _unfollows(stats: StatsService, log: LogWriter, model: Attribution) -> dict[int, int]:
    window = stats.window(log.account_id, DAY, DAY)
    rows = stats.per_channel(log.account_id, window, attribution=model)
    return {row.channel.id: row.metrics.unfollows for row in rows}


@pytest.mark.parametrize("fold_between", [True, False])
@pytest.mark.parametrize("rollups", [True, False])
def test_the_issue_example_a_late_follow_moves_the_first_touch(
    db: Engine, rollups: bool, fold_between: bool
) -> None:
    """Follow via C1 at T+5, unfollow at T+9, then a late follow via C2 at T arrives:
    first touch C2, last touch C1 (the follow the unfollow ends)."""
    log = LogWriter(db)
    c1, c2 = log.channel("C1"), log.channel("C2")
    stats = StatsService(db, rollups=rollups)
    log.event("subscribe_scan", "u1", "2024-05-02 10:05", "C1")
    log.event("unsubscribe", "u1", "2024-05-02 10:09")
    if fold_between:
        assert _unfollows(stats, log, Attribution.FIRST_TOUCH) == {c1: 1, c2: 0}
        assert _unfollows(stats, log, Attribution.LAST_TOUCH) == {c1: 1, c2: 0}
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "C2")
    assert _unfollows(stats, log, Attribution.FIRST_TOUCH) == {c1: 0, c2: 1}
    assert _unfollows(stats, log, Attribution.LAST_TOUCH) == {c1: 1, c2: 0}
    window = stats.window(log.account_id, DAY, DAY)
    for model in Attribution:  # the account's unfollows do not depend on the model
        assert stats.summary(log.account_id, window, attribution=model).unfollows == 1


@pytest.mark.parametrize("rollups", [True, False])
def test_last_touch_credits_the_follow_the_unfollow_ends(db: Engine, rollups: bool) -> None:
    log = LogWriter(db)
    a, b = log.channel("A", "g"), log.channel("B", "g")
    stats = StatsService(db, rollups=rollups)
    log.event("subscribe_scan", "u1", "2024-05-02 08:00", "A")
    log.event("unsubscribe", "u1", "2024-05-02 09:00")
    log.event("subscribe_scan", "u1", "2024-05-02 10:00", "B")
    log.event("unsubscribe", "u1", "2024-05-02 11:00")
    log.event("subscribe", "u1", "2024-05-02 12:00")  # plain: no channel
    log.event("unsubscribe", "u1", "2024-05-02 13:00")
    log.event("unsubscribe", "u2", "2024-05-02 13:00")  # never seen following
    # A late unfollow between the two follows, and a late one before every follow.
    log.event("unsubscribe", "u1", "2024-05-02 09:30")
    log.event("unsubscribe", "u1", "2024-05-02 07:00")
    assert _unfollows(stats, log, Attribution.FIRST_TOUCH) == {a: 4, b: 0}
    assert _unfollows(stats, log, Attribution.LAST_TOUCH) == {a: 2, b: 1}
    window = stats.window(log.account_id, DAY, DAY)
    groups = stats.per_group(log.account_id, window, attribution=Attribution.LAST_TOUCH)
    assert [(g.group, g.metrics.unfollows) for g in groups] == [("g", 3)]
    series = stats.series(
        log.account_id, window, "day", channel_ids=[b], attribution=Attribution.LAST_TOUCH
    )
    assert [p.metrics.unfollows for p in series] == [1]
    assert stats.summary(log.account_id, window).unfollows == 6


def test_the_query_takes_the_model_and_refuses_others(db: Engine) -> None:
    log = LogWriter(db)
    stats = StatsService(db)
    query = stats.query(log.account_id, date_from=DAY, date_to=DAY)
    assert query.attribution is Attribution.FIRST_TOUCH
    assert query.head()["attribution"] == "first_touch"
    last = stats.query(log.account_id, date_from=DAY, date_to=DAY, attribution="last_touch")
    assert last.attribution is Attribution.LAST_TOUCH
    with pytest.raises(StatsError) as caught:
        stats.query(log.account_id, date_from=DAY, date_to=DAY, attribution="linear")
    assert caught.value.field == "attribution"
