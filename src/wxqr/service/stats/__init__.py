"""Channel statistics: the six metrics of docs/metrics.md over the event log.

```python
from wxqr.service.stats import StatsService, Window

stats = StatsService(engine)
window = stats.window(account_id, date(2024, 5, 1), date(2024, 5, 31))
stats.summary(account_id, window).as_dict()
stats.series(account_id, window, "day", channel_ids=[3])
```

Exports (CSV, XLSX) are in ``wxqr.service.stats.export``.
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
)
from ._service import StatsService
from ._window import DEFAULT_TIMEZONE, Window

__all__ = [
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
    "StatsError",
    "StatsService",
    "UnknownAccount",
    "UnknownChannel",
    "Window",
]
