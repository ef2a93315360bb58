"""The collector policy of wxqr's processes (wxqr.heap): applied by process entry points
only, never by the app factory that tests and embedding programs call."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Callable

from fastapi.testclient import TestClient

from wxqr.heap import YOUNG_THRESHOLD

_PROBE = """
import gc, json
from wxqr.heap import settle_heap
before = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
import fastapi, sqlalchemy  # a start-up's worth of objects
settle_heap()
print(json.dumps({"before": before,
                  "after": {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}}))
"""


def test_settle_heap_freezes_start_up_objects_and_spaces_out_collections() -> None:
    # In a process of its own: freezing is for the life of a process.
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(done.stdout)
    before, after = report["before"], report["after"]
    assert before["frozen"] == 0
    assert after["frozen"] > 10_000  # the imported modules' objects, at the least
    assert after["threshold"][0] == YOUNG_THRESHOLD
    assert after["threshold"][1:] == before["threshold"][1:]


def test_the_app_factory_and_its_lifespan_leave_the_collector_alone(
    make_client: Callable[..., TestClient],
) -> None:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    client = make_client()
    assert client.get("/healthz").status_code == 200
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == frozen
