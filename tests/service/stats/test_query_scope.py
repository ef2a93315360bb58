"""A query's scope holds on every answer (issue 17 §5): top channels and groups narrow,
answers that belong to no channel refuse a scope, channel references are unambiguous,
channel and group together are refused; split series; quarter and year buckets."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from wxqr.service.stats import Granularity, StatsError, StatsService, UnknownChannel

from ._log import LogWriter


def _world(db: Engine) -> tuple[LogWriter, dict[str, int]]:
    log = LogWriter(db)
    ids = {
        "A": log.channel("A", "loud"),
        "B": log.channel("B", "quiet"),
        "C": log.channel("C", "quiet"),
    }
    ids["named-A"] = log.channel(str(ids["A"]))  # a channel named like A's id
    for n in range(5):
        log.event("scan", f"a{n}", "2024-05-02 10:00", "A")
    log.event("scan", "b1", "2024-05-02 11:00", "B")
    log.event("scan", "b1", "2024-05-02 12:00", "B")
    log.event("scan", "c1", "2024-05-03 12:00", "C")
    log.event("scan", "x1", "2024-05-03 13:00", str(ids["A"]))
    log.event("subscribe_scan", "o1", "2024-05-03 14:00", "ghost")  # orphan
    return log, ids


DATES = {"date_from": date(2024, 5, 1), "date_to": date(2024, 5, 31)}


def test_top_narrows_to_the_group_and_to_the_channels(db: Engine) -> None:
    log, ids = _world(db)
    stats = StatsService(db)
    everyone = stats.top_of(stats.query(log.account_id, **DATES))
    assert next(row.channel.id for row in everyone) == ids["A"]
    quiet = stats.top_of(stats.query(log.account_id, **DATES, group="quiet"))
    assert [row.channel.id for row in quiet] == [ids["B"], ids["C"]]
    picked = stats.top_of(stats.query(log.account_id, **DATES, channels=[ids["C"], ids["B"]]))
    assert [row.channel.id for row in picked] == [ids["B"], ids["C"]]
    assert [r.channel.id for r in stats.top_of(stats.query(log.account_id, **DATES), limit=1)] == [
        ids["A"]
    ]


def test_groups_narrow_to_the_group_and_refuse_channels(db: Engine) -> None:
    log, ids = _world(db)
    stats = StatsService(db)
    everything = stats.groups_of(stats.query(log.account_id, **DATES))
    assert [row.group for row in everything] == ["loud", "quiet", None]
    quiet = stats.groups_of(stats.query(log.account_id, **DATES, group="quiet"))
    assert [(row.group, row.channel_count, row.metrics.scans) for row in quiet] == [("quiet", 2, 3)]
    with pytest.raises(StatsError) as refused:
        stats.groups_of(stats.query(log.account_id, **DATES, channels=[ids["B"]]))
    assert refused.value.field == "channel"
    with pytest.raises(UnknownChannel):
        stats.groups_of(stats.query(log.account_id, **DATES, group="nope"))


@pytest.mark.parametrize("scope", [{"group": "quiet"}, {"channels": ["B"]}])
def test_orphans_and_sessions_refuse_a_scope(db: Engine, scope: dict[str, object]) -> None:
    log, _ = _world(db)
    stats = StatsService(db)
    assert [o.scene for o in stats.orphans_of(stats.query(log.account_id, **DATES))] == ["ghost"]
    query = stats.query(log.account_id, **DATES, **scope)  # type: ignore[arg-type]
    for answer in (stats.orphans_of, stats.sessions_of):
        with pytest.raises(StatsError) as refused:
            answer(query)
        assert refused.value.field in ("channel", "group")


def test_a_reference_that_is_a_name_and_another_id_is_ambiguous(db: Engine) -> None:
    log, ids = _world(db)
    stats = StatsService(db)
    plain = str(ids["A"])
    with pytest.raises(StatsError, match=f"id:{plain} or name:{plain}") as refused:
        stats.query(log.account_id, channels=[plain])
    assert refused.value.field == "channel"
    assert stats.query(log.account_id, channels=[f"id:{plain}"]).channel_ids == (ids["A"],)
    named = stats.query(log.account_id, channels=[f"name:{plain}"])
    assert named.channel_ids == (ids["named-A"],)
    assert stats.query(log.account_id, channels=[ids["A"]]).channel_ids == (ids["A"],)  # int: id
    assert stats.query(log.account_id, channels=["B"]).channel_ids == (ids["B"],)
    assert stats.query(log.account_id, channels=[str(ids["B"])]).channel_ids == (ids["B"],)
    with pytest.raises(UnknownChannel):
        stats.query(log.account_id, channels=["name:nope"])
    with pytest.raises(StatsError):
        stats.query(log.account_id, channels=["id:x"])


def test_channel_and_group_together_are_refused(db: Engine) -> None:
    log, _ = _world(db)
    stats = StatsService(db)
    with pytest.raises(StatsError, match="not both") as refused:
        stats.query(log.account_id, channels=["B"], group="quiet")
    assert refused.value.field == "group"


def test_split_series_one_line_per_channel_or_group(db: Engine) -> None:
    log, ids = _world(db)
    stats = StatsService(db)
    picked = stats.query(
        log.account_id,
        **DATES,
        channels=[ids["B"], ids["C"]],
        split="channel",
        compare="previous_period",
    )
    lines = stats.split_series_of(picked)
    assert [line.channel.id for line in lines if line.channel] == [ids["B"], ids["C"]]
    for line in lines:
        assert line.channel is not None
        alone = stats.series_of(stats.query(log.account_id, **DATES, channels=[line.channel.id]))
        assert [p.value for p in line.points] == alone
        assert all(p.change is not None for p in line.points)
    groups = stats.split_series_of(stats.query(log.account_id, **DATES, split="group"))
    assert [line.group for line in groups] == ["loud", "quiet", None]
    quiet = groups[1]
    assert sum(p.value.metrics.scans for p in quiet.points) == 3
    assert stats.split_series_of(stats.query(log.account_id, **DATES)) == []
    with pytest.raises(StatsError):
        stats.split_series_of(stats.query(log.account_id, **DATES, channels=["B"], split="group"))


def test_quarter_and_year_series_are_zero_filled_calendar_buckets(db: Engine) -> None:
    log = LogWriter(db, tz="Europe/London")
    log.channel("A")
    log.event("scan", "u1", "2024-03-31 23:30", "A")  # Q1, the DST day
    log.event("scan", "u2", "2024-04-01 00:30", "A")  # Q2
    log.event("scan", "u3", "2025-01-01 00:00", "A")  # 2025
    stats = StatsService(db)
    zone = ZoneInfo("Europe/London")
    query = stats.query(
        log.account_id,
        date_from=date(2024, 2, 15),
        date_to=date(2025, 1, 10),
        granularity=Granularity.QUARTER,
    )
    points = stats.series_of(query)
    assert [p.start for p in points] == [
        datetime(2024, m, 1, tzinfo=zone) for m in (1, 4, 7, 10)
    ] + [datetime(2025, 1, 1, tzinfo=zone)]
    assert [p.metrics.scans for p in points] == [1, 1, 0, 0, 1]
    assert points[1].start.utcoffset() != points[0].start.utcoffset()  # BST vs GMT
    years = stats.series_of(
        stats.query(
            log.account_id,
            date_from=date(2023, 6, 1),
            date_to=date(2025, 1, 10),
            granularity="year",
        )
    )
    assert [(p.start.year, p.end.year, p.metrics.scans) for p in years] == [
        (2023, 2024, 0),
        (2024, 2025, 2),
        (2025, 2026, 1),
    ]
