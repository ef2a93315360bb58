"""Series buckets: boundaries from zoneinfo, and the database's row → bucket mapping.

The mapping is evaluated by the real database (SQLite and PostgreSQL) for instants chosen
around DST changes, month ends and bucket boundaries, and compared with the bucket read off
the instant's local wall-clock time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Engine, literal, select, union_all

from wxqr.service.stats import InvalidWindow
from wxqr.service.stats._buckets import offset_segments, plan_buckets
from wxqr.service.stats._model import Granularity

from . import _reference as ref

ZONES = (
    "Asia/Shanghai",
    "America/New_York",  # DST at 02:00
    "Europe/London",
    "Australia/Sydney",  # southern hemisphere
    "America/Santiago",  # DST changes at midnight: some local days start at 01:00
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
)
# 2024's DST changes and month ends worth landing on, in Unix seconds.
INTERESTING = {
    "America/New_York": (1_710_054_000, 1_730_613_600),  # 02:00 spring forward, fall back
    "Europe/London": (1_711_846_800, 1_729_990_800),
    "Australia/Sydney": (1_712_419_200, 1_728_144_000),
    "America/Santiago": (1_712_458_800, 1_725_768_000),  # at midnight
    "Asia/Shanghai": (1_711_900_800, 1_735_660_800),  # month end, year end
}
CENTRES = tuple(t for times in INTERESTING.values() for t in times)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, Granularity, int, int, list[int]]:
    tz = draw(st.sampled_from(ZONES))
    granularity = draw(st.sampled_from(list(Granularity)))
    centre = draw(st.sampled_from(INTERESTING.get(tz, CENTRES)))
    limit = 4 * 86_400 if granularity is Granularity.HOUR else 80 * 86_400
    start_s = centre - draw(st.integers(0, limit // 2) | st.integers(limit // 4, limit // 2))
    end_s = centre + draw(st.integers(1, limit // 2) | st.integers(limit // 4, limit // 2))
    plan = plan_buckets(start_s, end_s, ZoneInfo(tz), granularity)
    near = [s + d for s in plan.starts for d in (-1, 0, 1)] + [centre - 1, centre, centre + 1]
    randoms = draw(st.lists(st.integers(start_s, end_s - 1), max_size=20))
    instants = sorted({t for t in [*near, *randoms, start_s, end_s - 1] if start_s <= t < end_s})
    return tz, granularity, start_s, end_s, instants


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=cases())
def test_rows_land_in_the_bucket_of_their_local_time(
    engine: Engine, case: tuple[str, Granularity, int, int, list[int]]
) -> None:
    tz_name, granularity, start_s, end_s, instants = case
    tz = ZoneInfo(tz_name)
    plan = plan_buckets(start_s, end_s, tz, granularity)
    expected_starts = ref.bucket_starts(start_s, end_s, tz, granularity.value)
    assert list(plan.starts) == expected_starts
    labels = [ref.bucket_key(s, tz, granularity.value) for s in expected_starts[:-1]]

    table = union_all(*(select(literal(i, BigInteger).label("t")) for i in instants)).subquery()
    t = table.c.t
    if plan.count == 1:
        got = [0] * len(instants)
    else:
        with engine.connect() as conn:
            query = select(t, plan.index_sql(t).label("bucket")).order_by(t)
            got = [int(row.bucket) for row in conn.execute(query)]
    want = [labels.index(ref.bucket_key(instant, tz, granularity.value)) for instant in instants]
    assert got == want


def test_new_york_days_around_dst_are_23_and_25_hours() -> None:
    tz = ZoneInfo("America/New_York")
    spring = plan_buckets(1_710_000_000, 1_710_200_000, tz, Granularity.DAY)
    lengths = [b - a for a, b in zip(spring.starts, spring.starts[1:], strict=False)]
    assert 23 * 3600 in lengths
    fall = plan_buckets(1_730_550_000, 1_730_700_000, tz, Granularity.DAY)
    lengths = [b - a for a, b in zip(fall.starts, fall.starts[1:], strict=False)]
    assert 25 * 3600 in lengths


def test_repeated_hour_is_two_buckets_with_different_offsets() -> None:
    tz = ZoneInfo("America/New_York")
    day = datetime(2024, 11, 3, tzinfo=tz)
    start_s = int(day.timestamp())
    plan = plan_buckets(start_s, start_s + 25 * 3600, tz, Granularity.HOUR)
    assert plan.count == 25
    labels = [plan.bounds(i)[0] for i in range(plan.count)]
    one_am = [label for label in labels if label.hour == 1]
    assert [label.utcoffset() for label in one_am] == [
        ZoneInfo("America/New_York").utcoffset(datetime(2024, 11, 2)),
        ZoneInfo("America/New_York").utcoffset(datetime(2024, 11, 4)),
    ]
    assert [label.isoformat() for label in one_am] == [
        "2024-11-03T01:00:00-04:00",
        "2024-11-03T01:00:00-05:00",
    ]


def test_offset_segments_find_the_exact_second_of_a_change() -> None:
    tz = ZoneInfo("Europe/London")
    segments = offset_segments(1_711_000_000, 1_712_000_000, tz)
    assert segments == [(1_711_000_000, 0), (1_711_846_800, 3600)]
    assert offset_segments(1_711_000_000, 1_711_000_001, ZoneInfo("Asia/Shanghai")) == [
        (1_711_000_000, 28_800)
    ]


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    wednesday = int(datetime(2024, 5, 15, 12, tzinfo=tz).timestamp())
    weeks = plan_buckets(wednesday, wednesday + 86_400, tz, Granularity.WEEK)
    assert weeks.bounds(0)[0] == datetime(2024, 5, 13, tzinfo=tz)
    assert weeks.bounds(0)[1] == datetime(2024, 5, 20, tzinfo=tz)
    months = plan_buckets(wednesday, wednesday + 40 * 86_400, tz, Granularity.MONTH)
    assert [months.bounds(i)[0].date().isoformat() for i in range(months.count)] == [
        "2024-05-01",
        "2024-06-01",
    ]


def test_too_many_buckets_is_refused() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    with pytest.raises(InvalidWindow, match="at most 10000 buckets"):
        plan_buckets(0, 3600 * 10_001, tz, Granularity.HOUR)
