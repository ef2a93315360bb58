"""The garbage-collector policy of wxqr's long-running processes.

CPython's cyclic collector runs a full (oldest-generation) collection from time to time,
and a full collection walks every tracked object of the process: after FastAPI, pydantic
and SQLAlchemy are imported that is a few hundred thousand objects, tens of milliseconds
during which the event loop answers nobody. Under a load of pushes those pauses were the
webhook's p99 latency (about 60 ms against a 7 ms median, see docs/performance.md).

:func:`settle_heap` is called by a process's entry point once it has started (``wxqr
serve``, each of its workers, the ingest writer process), never by the app factory, since
the policy is the whole process's: an app embedded in another program, or built by a test,
leaves the collector alone. It

- collects once, then moves every object that survived start-up into the permanent
  generation (:func:`gc.freeze`), which later collections do not walk: modules, classes,
  routes and schemas live as long as the process anyway;
- raises the young generation's threshold so that the many short-lived objects of each
  request are mostly freed by reference counting before a collection looks at them.

Reference counting still frees everything that is not in a cycle, frozen or not; cyclic
garbage among the frozen start-up objects is the only thing never reclaimed.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "settle_heap"]

# Allocations (minus deallocations) between two young-generation collections (CPython's
# default is 700); the older generations keep their default ratios.
YOUNG_THRESHOLD = 50_000


def settle_heap(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Freeze what start-up built and space out collections (call once, after start-up)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
