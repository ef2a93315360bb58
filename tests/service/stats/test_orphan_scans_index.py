"""The orphan scans of a window are read through the partial index (issue 18, "Fast"):
SQLite's plan names it, so the overview does not read the window's other events."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, text

from wxqr.service.stats._sql import orphan_query
from wxqr.store.db import make_engine
from wxqr.store.tables import accounts, events, metadata


def test_the_orphan_query_uses_the_partial_index(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    metadata.create_all(engine)
    with engine.begin() as conn:  # a log where orphans are rare, and its statistics
        conn.execute(insert(accounts).values(id=1, appid="wxplan", token="t", created_at=0))
        conn.execute(
            insert(events),
            [
                {
                    "account_id": 1,
                    "dedup_key": f"k{i}",
                    "kind": "scan",
                    "openid": f"o{i % 50}",
                    "msg_type": "event",
                    "event": "SCAN",
                    "event_key": "s",
                    "scene": "s",
                    "orphan": i % 100 == 0,
                    "create_time": 1_700_000_000 + i * 30,
                    "received_at": 0,
                }
                for i in range(2_000)
            ],
        )
        conn.execute(text("ANALYZE"))
    query = orphan_query(1, 1_700_000_000, 1_700_086_400)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    engine.dispose()
    assert "ix_events_orphan_scans" in plan
