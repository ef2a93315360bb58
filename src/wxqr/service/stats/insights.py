"""``StatsInsights``: the follower answers beyond the six metrics (audience, follow
sources, retention, unfollow rate, reconciliation with WeChat), each answering a
:class:`~wxqr.service.stats.StatsQuery` built by :meth:`StatsService.query`.

The workspace hands one out (``ws.insights``); in a workspace scoped to an API key the
``check`` refuses queries about accounts outside the key's scope (the query itself was
built by the scoped stats service, so this is a second lock on the same door).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine

from ._model import Granularity
from ._query import StatsQuery
from .audience import Audience, AudienceService
from .reconcile import ClientFactory, ReconcileService, Reconciliation
from .retention import Retention, RetentionService

__all__ = ["StatsInsights"]


def _allow(_account_id: int) -> None:
    return None


class StatsInsights:
    def __init__(
        self,
        engine: Engine,
        clients: ClientFactory,
        *,
        clock: Callable[[], float] = time.time,
        check: Callable[[int], None] = _allow,
    ) -> None:
        self._audience = AudienceService(engine)
        self._retention = RetentionService(engine, clock=clock)
        self._reconcile = ReconcileService(engine, clients, clock=clock)
        self._check = check

    def audience_of(self, query: StatsQuery, *, sources: bool = True) -> Audience:
        self._check(query.account.id)
        return self._audience.audience_of(query, sources=sources)

    def retention_of(
        self,
        query: StatsQuery,
        *,
        cohort: Granularity | str = Granularity.WEEK,
        unfollow_days: int = 30,
    ) -> Retention:
        self._check(query.account.id)
        return self._retention.retention_of(query, cohort=cohort, unfollow_days=unfollow_days)

    def reconcile_of(self, query: StatsQuery) -> Reconciliation:
        self._check(query.account.id)
        return self._reconcile.reconcile_of(query)
