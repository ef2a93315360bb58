"""Audience, follow sources, retention and unfollow rate against the reference
computation (``_follower_reference``, written from docs/metrics.md), on random worlds
(hypothesis): out-of-order arrival, retries, re-follows, unfollows of users never seen
following, plain and orphan follows, spans of weeks. SQLite, and PostgreSQL when set.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from wxqr.service.stats import AccountRef, Granularity, StatsQuery, Window, _spans
from wxqr.service.stats.audience import AudienceService
from wxqr.service.stats.retention import RetentionService

from . import _follower_reference as ref
from ._world import BASE_TIME, ZONES, Action, World, build_world, gaps

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Users acting over weeks: most gaps short (ties, out-of-order), some of days.
long_gaps = st.one_of(gaps, gaps, st.integers(min_value=86_400, max_value=12 * 86_400))
actions = st.builds(
    Action,
    account=st.integers(min_value=0, max_value=1),
    user=st.integers(min_value=0, max_value=7),
    what=st.sampled_from(["scan"] * 4 + ["follow", "unfollow", "unfollow", "retry"]),
    scene=st.integers(min_value=0, max_value=9),
    gap=long_gaps,
    flip=st.sampled_from([False] * 9 + [True]),
)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_accounts = draw(st.integers(min_value=1, max_value=2))
    zones = [draw(st.sampled_from(ZONES)) for _ in range(n_accounts)]
    groups = [
        draw(st.lists(st.sampled_from([None, "g1", "g2"]), min_size=1, max_size=3))
        for _ in range(n_accounts)
    ]
    return build_world(zones, groups, draw(st.lists(actions, min_size=5, max_size=50)))


def _span(world: World) -> int:
    return max((e.create_time for e in world.events), default=BASE_TIME) - BASE_TIME


def _query(
    data: st.DataObject, world: World, account_index: int
) -> tuple[StatsQuery, set[int] | None]:
    account = world.accounts[account_index]
    tz_name = data.draw(st.sampled_from([account.timezone, *ZONES]), label="tz")
    zone = ZoneInfo(tz_name)
    first = datetime.fromtimestamp(BASE_TIME, zone).date() - timedelta(days=1)
    span_days = _span(world) // 86_400 + 2
    offset = data.draw(st.integers(0, span_days), label="first day")
    length = data.draw(st.integers(0, span_days), label="days")
    day_from = first + timedelta(days=offset)
    day_to = day_from + timedelta(days=length)
    window = Window.from_dates(day_from, day_to, tz_name)
    mine = [c for c in world.channels if c.account_id == account.id]
    scope: set[int] | None = data.draw(
        st.one_of(st.none(), st.sets(st.sampled_from([c.id for c in mine]), min_size=1)),
        label="channels",
    )
    granularity = data.draw(st.sampled_from(["day", "week", "month"]), label="unit")
    query = StatsQuery(
        account=AccountRef(account.id, account.appid, "", account.timezone),
        date_from=day_from,
        date_to=day_to,
        window=window,
        channel_ids=tuple(sorted(scope)) if scope is not None else None,
        granularity=Granularity(granularity),
        timezone=tz_name,
    )
    return query, scope


def _load(engine: Engine, world: World, data: st.DataObject) -> None:
    """Store the world; the follower spans are brought up to date part way (incrementally,
    or in one pass over the log), then the rest of the pushes arrive."""
    split = data.draw(st.integers(0, len(world.arrivals)), label="arrived before a query")
    ref.load_with_followers(engine, world, upto=split)
    one_pass = data.draw(st.booleans(), label="one pass")
    saved = _spans.FULL_REBUILD_EVENTS
    _spans.FULL_REBUILD_EVENTS = 0 if one_pass else saved
    try:
        for account in world.accounts:
            _spans.refresh(engine, account.id)
    finally:
        _spans.FULL_REBUILD_EVENTS = saved
    ref.add_arrivals(engine, world, split)


@SETTINGS
@given(world=worlds(), data=st.data())
def test_audience_matches_the_reference(engine: Engine, world: World, data: st.DataObject) -> None:
    _load(engine, world, data)
    service = AudienceService(engine)
    for index, account in enumerate(world.accounts):
        query, scope = _query(data, world, index)
        got = service.audience_of(query)
        window = query.window
        points, channels, sources = ref.audience(
            world.events,
            account.id,
            window.start_s,
            window.end_s,
            scope,
            ZoneInfo(query.timezone),
            query.granularity.value,
        )
        assert [p.followers for p in got.points] == points
        got_channels = {
            (row.channel.id if row.channel else None): row.followers for row in got.channels
        }
        assert {k: v for k, v in got_channels.items() if v} == {
            k: v for k, v in channels.items() if v
        }
        assert {s.source: s.followers for s in got.sources} == {
            k: v for k, v in sources.items() if v
        }
        assert sum(s.followers for s in got.sources) == got.followers


@SETTINGS
@given(world=worlds(), data=st.data())
def test_retention_matches_the_reference(engine: Engine, world: World, data: st.DataObject) -> None:
    _load(engine, world, data)
    now = BASE_TIME + data.draw(st.integers(0, _span(world) + 40 * 86_400), label="now")
    service = RetentionService(engine, clock=lambda: now)
    for index, account in enumerate(world.accounts):
        query, scope = _query(data, world, index)
        unfollow_days = data.draw(st.integers(1, 10), label="unfollow days")
        got = service.retention_of(query, cohort=query.granularity, unfollow_days=unfollow_days)
        window = query.window
        cohorts, channels = ref.retention(
            world.events,
            account.id,
            window.start_s,
            window.end_s,
            scope,
            ZoneInfo(query.timezone),
            query.granularity.value,
            now,
            unfollow_days,
        )
        assert len(got.cohorts) == len(cohorts)
        for cohort, (size, cells) in zip(got.cohorts, cohorts, strict=True):
            assert cohort.followers == size
            assert list(got.days) == list(cells)
            assert {c.day: c.retained for c in cohort.cells} == cells, cohort.start
        got_channels = {
            (row.channel.id if row.channel else None): (row.new_followers, row.unfollowed)
            for row in got.channels
        }
        assert {k: v for k, v in got_channels.items() if v != (0, 0)} == channels
        if scope is not None:
            assert set(got_channels) == scope
