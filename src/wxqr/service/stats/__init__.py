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
```

Exports (CSV, XLSX) and the tables they hold (``build_table(stats, query, table)``) are
in ``wxqr.service.stats.export``.
"""

from ._buckets import MAX_BUCKETS
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
from ._query import DEFAULT_DAYS, StatsQuery, StatsTable
from ._service import StatsService
from ._window import DEFAULT_TIMEZONE, Window

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_TIMEZONE",
    "MAX_BUCKETS",
    "METRIC_NAMES",
    "AccountRef",
    "ChannelMetrics",
    "ChannelRef",
    "Granularity",
    "GroupMetrics",
    "InvalidWindow",
    "Metrics",
    "OrphanScan",
    "SeriesPoint",
    "SessionMetrics",
    "StatsError",
    "StatsQuery",
    "StatsService",
    "StatsTable",
    "UnknownAccount",
    "UnknownChannel",
    "Window",
]
