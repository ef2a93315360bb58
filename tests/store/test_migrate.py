"""The Alembic migrations build exactly the schema of wxqr.store.tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import wxqr.store
from wxqr.store.db import make_engine
from wxqr.store.migrate import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from wxqr.store.tables import metadata


def test_migrated_schema_matches_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)


def test_database_is_at_head_and_upgrade_is_idempotent(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_migrations_ship_inside_the_package() -> None:
    package_dir = Path(wxqr.store.__file__).parent
    assert MIGRATIONS_DIR.parent == package_dir
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert list((MIGRATIONS_DIR / "versions").glob("*.py"))


def test_empty_database_has_no_revision_and_concurrent_upgrades_agree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    engine = make_engine(url)
    assert current_revision(engine) is None
    code = (
        "from wxqr.store.db import make_engine; from wxqr.store.migrate import upgrade; "
        f"upgrade(make_engine({url!r}))"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    assert [process.wait(60) for process in processes] == [0, 0, 0]
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
