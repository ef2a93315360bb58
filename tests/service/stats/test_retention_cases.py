"""Hand-made histories for the cases random worlds rarely hit: pushes arriving out of
order around an unfollow, a Dn instant exactly on an unfollow, re-follows, and the
unfollow rate's N-day limit (docs/metrics.md, "Retention")."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, delete

from wxqr.service.stats import AccountRef, Granularity, StatsQuery, Window
from wxqr.service.stats.audience import AudienceService
from wxqr.service.stats.retention import RetentionService, retention_days
from wxqr.store.tables import channels

from ._follower_reference import load_with_followers
from ._world import BASE_TIME, Action, World, build_world

DAY = 86_400
TZ = "Asia/Shanghai"
B = BASE_TIME  # 2024-03-08 00:00 UTC = 08:00 in Shanghai


def _act(user: int, what: str, gap: int, scene: int = 0) -> Action:
    return Action(account=0, user=user, what=what, scene=scene, gap=gap, flip=False)


def _world(*actions: Action) -> World:
    return build_world([TZ], [["g1", "g1"]], list(actions))


def _query(world: World, first: date, last: date, unit: str = "day") -> StatsQuery:
    account = world.accounts[0]
    return StatsQuery(
        account=AccountRef(account.id, account.appid, "", TZ),
        date_from=first,
        date_to=last,
        window=Window.from_dates(first, last, TZ),
        granularity=Granularity(unit),
        timezone=TZ,
    )


def test_a_late_follow_before_an_ignored_unfollow_is_replayed_from_the_log(db: Engine) -> None:
    # Arrival order: follow at B+9d, unfollow at B+5d (older than the stored follow: the
    # ingest ignores it), then a late follow at B (the first follow).
    world = _world(
        _act(0, "follow", 9 * DAY), _act(0, "unfollow", -4 * DAY), _act(0, "follow", -5 * DAY)
    )
    load_with_followers(db, world)
    service = RetentionService(db, clock=lambda: B + 60 * DAY)
    answer = service.retention_of(_query(world, date(2024, 3, 8), date(2024, 3, 8)))
    (cohort,) = answer.cohorts
    assert cohort.followers == 1
    cells = {cell.day: cell.retained for cell in cohort.cells}
    assert cells[1] == 1  # following at B+1d
    assert cells[7] == 0  # unfollowed at B+5d, back at B+9d
    assert cells[30] == 1
    no_channel = answer.channels[-1]
    assert no_channel.channel is None
    assert (no_channel.new_followers, no_channel.unfollowed) == (1, 1)


def test_dn_is_read_at_exactly_n_days_after_the_first_follow(db: Engine) -> None:
    # u0 unfollows at exactly first + 7 days; u1 one second after first + 1 day.
    world = _world(
        _act(0, "scan", 0),  # subscribe_scan through channel 1 at B
        _act(1, "scan", 0),  # u1 at B too
        _act(0, "unfollow", 7 * DAY),
        _act(1, "unfollow", -6 * DAY + 1),
    )
    load_with_followers(db, world)
    service = RetentionService(db, clock=lambda: B + 40 * DAY)
    answer = service.retention_of(
        _query(world, date(2024, 3, 8), date(2024, 3, 8)), unfollow_days=1
    )
    (cohort,) = answer.cohorts
    cells = {cell.day: (cell.retained, cell.rate) for cell in cohort.cells}
    assert cells[1] == (2, 1.0)
    assert cells[7] == (0, 0.0)
    assert answer.days == retention_days(39)
    channel = answer.channels[0]
    assert channel.channel is not None
    assert channel.channel.id == 1
    # Within 1 day: u1 left at first + 1 day + 1 s: not within; u0 neither.
    assert (channel.new_followers, channel.unfollowed, channel.rate) == (2, 0, 0.0)


def test_unreached_days_are_null(db: Engine) -> None:
    world = _world(_act(0, "follow", 0))
    load_with_followers(db, world)
    service = RetentionService(db, clock=lambda: B + 10 * DAY)
    (cohort,) = service.retention_of(_query(world, date(2024, 3, 8), date(2024, 3, 8))).cohorts
    cells = {cell.day: cell.retained for cell in cohort.cells}
    assert cells == {1: 1, 7: 1, 30: None}


def test_audience_counts_refollows_once_and_the_first_touch_channel(db: Engine) -> None:
    # u0 follows through channel 1, unfollows, re-follows through channel 2 (scene "1-0").
    world = _world(
        _act(0, "scan", 0, scene=0),
        _act(0, "unfollow", DAY),
        _act(0, "scan", DAY, scene=2),
        _act(1, "follow", 0),
    )
    load_with_followers(db, world)
    audience = AudienceService(db).audience_of(_query(world, date(2024, 3, 8), date(2024, 3, 11)))
    assert [p.followers for p in audience.points] == [1, 0, 2, 2]
    by_channel = {
        (row.channel.id if row.channel else None): row.followers for row in audience.channels
    }
    assert by_channel == {1: 1, 2: 0, None: 1}
    assert audience.followers == 2


def test_a_deleted_channels_followers_belong_to_no_channel(db: Engine) -> None:
    world = _world(_act(0, "scan", 0), _act(1, "scan", 0), _act(2, "follow", 0))
    load_with_followers(db, world)
    service = RetentionService(db, clock=lambda: B + 40 * DAY)
    query = _query(world, date(2024, 3, 8), date(2024, 3, 8))
    before = {
        (r.channel.id if r.channel else None): r.new_followers
        for r in service.retention_of(query).channels
    }
    assert before == {1: 2, 2: 0, None: 1}
    with db.begin() as conn:
        conn.execute(delete(channels).where(channels.c.id == 1))
    after = {
        (r.channel.id if r.channel else None): r.new_followers
        for r in service.retention_of(query).channels
    }
    assert after == {2: 0, None: 3}
