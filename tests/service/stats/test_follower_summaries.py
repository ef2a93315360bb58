"""The follower summaries (``_follower_summaries``): kept by the spans' refresh through
out-of-order arrivals exactly as a recount from scratch would make them, actually read by
retention and the audience, and recounted when the account's zone changes. SQLite, and
PostgreSQL when set."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, update

from wxqr.service.stats import AccountRef, Granularity, StatsQuery, Window, _spans
from wxqr.service.stats._follower_summaries import SUMMARY_TABLES, rebuild, summary_zone
from wxqr.service.stats.audience import AudienceService
from wxqr.service.stats.retention import RetentionService
from wxqr.store.tables import accounts, follower_spans

from . import _follower_reference as ref
from ._world import BASE_TIME, Action, World, build_world, load, worlds

DAY = 86_400


def _contents(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every summary row that counts something (rows left at zero count nothing)."""
    found = {}
    with engine.connect() as conn:
        for table in SUMMARY_TABLES:
            keys = {c.name for c in table.primary_key.columns}
            counts = [c for c in table.columns if c.name not in keys]
            found[table.name] = {
                tuple(row)
                for row in conn.execute(select(table))
                if any(row._mapping[c.name] for c in counts)
            }
    return found


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), data=st.data())
def test_incremental_updates_through_out_of_order_arrivals_equal_a_recount(
    engine: Engine, world: World, data: st.DataObject
) -> None:
    # The pushes arrive one by one in the world's (shuffled) order, late follows
    # included; the spans and summaries are refreshed after random ones.
    points = data.draw(st.sets(st.integers(0, max(0, len(world.arrivals) - 1))), label="refreshes")

    def after_arrival(i: int) -> None:
        if i in points:
            for account in world.accounts:
                _spans.refresh(engine, account.id)

    load(engine, world, after_arrival)
    for account in world.accounts:
        _spans.refresh(engine, account.id)
    kept = _contents(engine)
    with engine.begin() as conn:
        for account in world.accounts:
            rebuild(conn, account.id, account.timezone)
    assert kept == _contents(engine)


TZ = "Asia/Shanghai"


def _act(user: int, what: str, gap: int) -> Action:
    return Action(account=0, user=user, what=what, scene=0, gap=gap, flip=False)


def _query(world: World, tz: str, unit: str = "day") -> StatsQuery:
    account = world.accounts[0]
    first, last = date(2024, 3, 7), date(2024, 3, 20)
    return StatsQuery(
        account=AccountRef(account.id, account.appid, "", account.timezone),
        date_from=first,
        date_to=last,
        window=Window.from_dates(first, last, tz),
        granularity=Granularity(unit),
        timezone=tz,
    )


def _three_followers() -> World:
    # u0 through channel 1 at B, leaves at B+2d; u1 through channel 1 at B+1h; u2 plain.
    return build_world(
        [TZ],
        [["g1"]],
        [
            _act(0, "scan", 0),
            _act(1, "scan", 3600),
            _act(2, "follow", 0),
            _act(0, "unfollow", 2 * DAY),
        ],
    )


def test_retention_and_audience_read_the_summaries_for_the_accounts_zone(db: Engine) -> None:
    world = _three_followers()
    ref.load_with_followers(db, world)
    retention = RetentionService(db, clock=lambda: BASE_TIME + 60 * DAY)
    audience = AudienceService(db)
    before = retention.retention_of(_query(world, TZ), cohort="week")
    points = [p.followers for p in audience.audience_of(_query(world, TZ)).points]
    assert sum(c.followers for c in before.cohorts) == 3
    assert points[1:4] == [3, 3, 2]  # 03-08 … 03-10 in Shanghai
    # Without the spans, the summaries still answer in the account's zone; another zone
    # is answered from the (now empty) spans.
    with db.begin() as conn:
        conn.execute(delete(follower_spans))
    assert retention.retention_of(_query(world, TZ), cohort="week") == before
    assert [p.followers for p in audience.audience_of(_query(world, TZ)).points] == points
    elsewhere = retention.retention_of(_query(world, "Europe/London"), cohort="week")
    assert sum(c.followers for c in elsewhere.cohorts) == 0


def test_a_new_account_zone_recounts_the_summaries_in_it(db: Engine) -> None:
    world = _three_followers()
    ref.load_with_followers(db, world)
    account = world.accounts[0]
    retention = RetentionService(db, clock=lambda: BASE_TIME + 60 * DAY)
    shanghai = retention.retention_of(_query(world, TZ), cohort="day")
    assert [c.followers for c in shanghai.cohorts][:2] == [0, 3]
    with db.connect() as conn:
        assert summary_zone(conn, account.id) == TZ
    with db.begin() as conn:
        conn.execute(
            update(accounts).where(accounts.c.id == account.id).values(timezone="America/New_York")
        )
    ny = "America/New_York"
    first, last = date(2024, 3, 7), date(2024, 3, 20)
    query = StatsQuery(
        account=AccountRef(account.id, account.appid, "", ny),
        date_from=first,
        date_to=last,
        window=Window.from_dates(first, last, ny),
        granularity=Granularity.DAY,
        timezone=ny,
    )
    got = retention.retention_of(query, cohort="day")
    with db.connect() as conn:
        assert summary_zone(conn, account.id) == ny
    cohorts, _ = ref.retention(
        world.events,
        account.id,
        query.window.start_s,
        query.window.end_s,
        None,
        ZoneInfo(ny),
        "day",
        BASE_TIME + 60 * DAY,
        30,
    )
    assert [c.followers for c in got.cohorts] == [size for size, _ in cohorts]
    assert [{c.day: c.retained for c in x.cells} for x in got.cohorts] == [
        cells for _, cells in cohorts
    ]
    # Shanghai's 03-08 (B = 08:00 there) is New York's 03-07 (19:00 … 20:00).
    assert [c.followers for c in got.cohorts][:2] == [3, 0]
