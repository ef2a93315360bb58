"""The orphan scans of a window are read through the partial index (issue 18, "Fast"):
SQLite's plan names it, so the overview does not read the window's other events."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from wxqr.service.stats._sql import orphan_query
from wxqr.store.db import make_engine
from wxqr.store.tables import metadata


def test_the_orphan_query_uses_the_partial_index(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    metadata.create_all(engine)
    query = orphan_query(1, 1_700_000_000, 1_700_086_400)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    engine.dispose()
    assert "ix_events_orphan_scans" in plan
