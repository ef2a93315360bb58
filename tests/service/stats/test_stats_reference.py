"""The stats service against the reference computation, on random event logs (hypothesis).

Each example stores a random world (two accounts in different zones, channels in groups,
scans of known, channel-less and unknown scenes, plain follows, unfollows and re-follows,
WeChat retries, pushes arriving out of CreateTime order, ties within one second) and
compares every query of the service with ``_reference`` for random windows that cut
through users' histories. Runs on SQLite, and on PostgreSQL when it is configured.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from wxqr.service.stats import METRIC_NAMES, Attribution, StatsService, Window

from . import _reference as ref
from ._world import BASE_TIME, ZONES, Account, World, load, worlds

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _ceil_seconds(instant: datetime) -> int:
    delta = instant - EPOCH
    return delta.days * 86_400 + delta.seconds + (1 if delta.microseconds else 0)


def _span(world: World) -> int:
    return max((e.create_time for e in world.events), default=BASE_TIME) - BASE_TIME


def _draw_window(data: st.DataObject, world: World, account: Account, max_len: int) -> Window:
    tz_name = data.draw(st.sampled_from([None, None, *ZONES]), label="window tz")
    zone = ZoneInfo(tz_name or account.timezone)
    span = _span(world)
    if data.draw(st.booleans(), label="from dates"):
        first = datetime.fromtimestamp(BASE_TIME, zone).date() - timedelta(days=1)
        offset = data.draw(st.integers(0, span // 86_400 + 2), label="first day")
        length = data.draw(st.integers(0, max(0, min(span // 86_400 + 2, max_len // 86_400))))
        day: date = first + timedelta(days=offset)
        return Window.from_dates(day, day + timedelta(days=length), tz_name or account.timezone)
    times = sorted({e.create_time for e in world.events})
    on_events = data.draw(st.booleans(), label="on event times")
    if times and on_events:
        # Boundaries exactly on events: the half-open ends must include start, exclude end.
        first_i = data.draw(st.integers(0, len(times) - 1), label="start event")
        start_s = times[first_i]
        later = [t for t in times[first_i + 1 :] if t - start_s <= max_len] or [start_s + 1]
        end_s = data.draw(st.sampled_from(later), label="end event")
        start = datetime.fromtimestamp(start_s, UTC)
        end = datetime.fromtimestamp(end_s, UTC)
        return Window(start.astimezone(zone), end.astimezone(zone), tz_name)
    start_offset = data.draw(st.integers(-3_600, span + 3_600), label="start")
    length = data.draw(st.integers(1, max(1, min(span + 7_200, max_len))), label="length")
    micro = data.draw(st.sampled_from([0, 0, 1, 999_999]), label="microseconds")
    start = datetime.fromtimestamp(BASE_TIME + start_offset, UTC) - timedelta(microseconds=micro)
    end = start + timedelta(seconds=length)
    return Window(start.astimezone(zone), end.astimezone(zone), tz_name)


def _check_account(
    service: StatsService, world: World, account: Account, data: st.DataObject
) -> None:
    log = world.events
    window = _draw_window(data, world, account, max_len=120 * 86_400)
    start_s, end_s = _ceil_seconds(window.start), _ceil_seconds(window.end)
    mine = [c for c in world.channels if c.account_id == account.id]
    model = data.draw(st.sampled_from(list(Attribution)), label="attribution")

    summary = service.summary(account.id, window, attribution=model)
    assert summary.as_dict() == ref.metrics(log, account.id, start_s, end_s, None)
    assert summary.conversion() == ref.conversion(log, account.id, start_s, end_s, None)

    per_channel = service.per_channel(account.id, window, attribution=model)
    assert [row.channel.id for row in per_channel] == [c.id for c in mine]
    for row in per_channel:
        expected = ref.metrics(log, account.id, start_s, end_s, {row.channel.id}, model)
        assert row.metrics.as_dict() == expected, row.channel
        assert row.metrics.conversion() == ref.conversion(
            log, account.id, start_s, end_s, {row.channel.id}
        )

    groups = {c.group for c in mine}
    per_group = service.per_group(account.id, window, attribution=model)
    assert {row.group for row in per_group} == groups
    for group_row in per_group:
        members = {c.id for c in mine if c.group == group_row.group}
        assert group_row.channel_count == len(members)
        expected = ref.metrics(log, account.id, start_s, end_s, members, model)
        assert group_row.metrics.as_dict() == expected, group_row.group
        if group_row.group is not None:
            by_group = service.summary(account.id, window, group=group_row.group, attribution=model)
            assert by_group.as_dict() == expected

    subset = data.draw(st.sets(st.sampled_from([c.id for c in mine]), min_size=1), label="subset")
    chosen = service.summary(account.id, window, channel_ids=subset, attribution=model)
    assert chosen.as_dict() == ref.metrics(log, account.id, start_s, end_s, subset, model)

    by = data.draw(st.sampled_from(METRIC_NAMES), label="top by")
    top = service.top_channels(account.id, window, by=by, limit=2, attribution=model)
    ranked = sorted(
        (row for row in per_channel if row.metrics.value(by)),
        key=lambda row: (-row.metrics.value(by), row.channel.id),
    )
    assert [row.channel.id for row in top] == [row.channel.id for row in ranked[:2]]

    orphans = service.orphan_scans(account.id, window)
    expected_orphans: dict[str, list[str]] = {}
    for e in log:
        if e.account_id == account.id and e.orphan and start_s <= e.create_time < end_s:
            expected_orphans.setdefault(e.scene or "", []).append(e.openid)
    assert {o.scene: o.scans for o in orphans} == {k: len(v) for k, v in expected_orphans.items()}
    assert {o.scene: o.unique_scanners for o in orphans} == {
        k: len(set(v)) for k, v in expected_orphans.items()
    }

    by_purpose = service.per_session_purpose(account.id, window)
    assert {s.purpose: s.metrics.as_dict() for s in by_purpose} == ref.sessions(
        log, account.id, start_s, end_s
    )


def _check_series(
    service: StatsService, world: World, account: Account, data: st.DataObject
) -> None:
    granularity = data.draw(st.sampled_from(["hour", "day", "week", "month"]), label="unit")
    max_len = {"hour": 3 * 86_400, "day": 40 * 86_400}.get(granularity, 200 * 86_400)
    window = _draw_window(data, world, account, max_len=max_len)
    mine = [c.id for c in world.channels if c.account_id == account.id]
    scope = data.draw(st.one_of(st.none(), st.sets(st.sampled_from(mine), min_size=1)))
    zone = ZoneInfo(window.tz or account.timezone)
    model = data.draw(st.sampled_from(list(Attribution)), label="attribution")
    points = service.series(account.id, window, granularity, channel_ids=scope, attribution=model)
    start_s, end_s = _ceil_seconds(window.start), _ceil_seconds(window.end)
    expected = ref.series(world.events, account.id, start_s, end_s, scope, zone, granularity, model)
    assert len(points) == len(expected)
    for point, (lo, hi, values) in zip(points, expected, strict=True):
        assert (int(point.start.timestamp()), int(point.end.timestamp())) == (lo, hi)
        assert point.start.utcoffset() == point.start.astimezone(zone).utcoffset()
        assert point.metrics.as_dict() == values, (point.start, point.end)
    total = service.summary(account.id, window, channel_ids=scope, attribution=model).as_dict()
    for name in ("scans", "new_followers", "returning_followers", "unfollows"):
        assert sum(p.metrics.value(name) for p in points) == total[name]


# Both ways of answering: the rollups (whole days in the account's zone; the rest falls
# back to the log) and the log alone.
PATHS = pytest.mark.parametrize("path", ["rollups", "log"])


@PATHS
@SETTINGS
@given(world=worlds(), data=st.data())
def test_metrics_match_the_reference(
    engine: Engine, path: str, world: World, data: st.DataObject
) -> None:
    load(engine, world)
    service = StatsService(engine, rollups=path == "rollups")
    for account in world.accounts:
        _check_account(service, world, account, data)


@PATHS
@SETTINGS
@given(world=worlds(), data=st.data())
def test_series_match_the_reference(
    engine: Engine, path: str, world: World, data: st.DataObject
) -> None:
    load(engine, world)
    service = StatsService(engine, rollups=path == "rollups")
    for account in world.accounts:
        _check_series(service, world, account, data)
