"""Channel statistics: the six metrics of docs/metrics.md over the event log.

```python
from wxqr.service.stats import StatsService, Window

stats = StatsService(engine)
window = stats.window(account_id, date(2024, 5, 1), date(2024, 5, 31))
stats.summary(account_id, window).as_dict()
stats.series(account_id, window, "day", channel_ids=[3])

# What the adapters do: one checked query value, answered by the *_of methods
query = stats.query("wx123", date_from=date(2024, 5, 1), channels=["Poster A"])
stats.summary_of(query)

# Compared with the previous period: each answer beside its base and the change
query = stats.query("wx123", date_from=date(2024, 5, 1), compare="previous_period")
stats.compared_summary_of(query).change  # Change: base metrics, absolute, percent
```

Exports (CSV, XLSX) and the tables they hold (``build_table(stats, query, table)``) are
in ``wxqr.service.stats.export``.
"""

from ._attribution import Attribution
from ._buckets import MAX_BUCKETS
from ._compare import Align, Change, CompareMode, Comparison, percent_change
from ._errors import InvalidWindow, StatsError, UnknownAccount, UnknownChannel
from ._model import (
    METRIC_NAMES,
    AccountRef,
    ChannelMetrics,
    ChannelRef,
    Granularity,
    GroupMetrics,
    Metrics,
    OrphanScan,
    SeriesPoint,
    SessionMetrics,
)
from ._query import DEFAULT_DAYS, MAX_SPLITS, Split, StatsQuery, StatsTable
from ._results import Compared, SplitSeries
from ._service import StatsService
from ._window import DEFAULT_TIMEZONE, Window

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_TIMEZONE",
    "MAX_BUCKETS",
    "MAX_SPLITS",
    "METRIC_NAMES",
    "AccountRef",
    "Align",
    "Attribution",
    "Change",
    "ChannelMetrics",
    "ChannelRef",
    "CompareMode",
    "Compared",
    "Comparison",
    "Granularity",
    "GroupMetrics",
    "InvalidWindow",
    "Metrics",
    "OrphanScan",
    "SeriesPoint",
    "SessionMetrics",
    "Split",
    "SplitSeries",
    "StatsError",
    "StatsQuery",
    "StatsService",
    "StatsTable",
    "UnknownAccount",
    "UnknownChannel",
    "Window",
    "percent_change",
]
