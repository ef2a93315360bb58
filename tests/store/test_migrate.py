"""The Alembic migrations build exactly the schema of wxqr.store.tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

import wxqr.store
from wxqr.store.db import make_engine
from wxqr.store.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
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


def test_0002_drops_the_ingest_foreign_keys_and_keeps_the_rows(database_url: str) -> None:
    """A database made by 0001, with events and followers in it, upgraded to 0002: every
    row is still there and the two tables the webhook writes have no foreign keys (the
    other tables keep theirs); downgrading puts them back."""
    engine = make_engine(database_url)
    _reset(engine)
    upgrade(engine, "0001")
    assert {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("events")} == {
        "accounts",
        "scenes",
        "channels",
    }
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO accounts (id, appid, token, created_at) VALUES (1, 'wx1', 't', 0)")
        )
        conn.execute(
            text(
                "INSERT INTO channels (id, account_id, name, tags, follower_tags, created_at, "
                "updated_at) VALUES (1, 1, 'poster', '[]', '[]', 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO events (account_id, dedup_key, kind, openid, msg_type, "
                "channel_id, create_time, received_at) "
                "VALUES (1, 'k1', 'subscribe', 'o1', 'event', 1, 10, 10000)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO followers (account_id, openid, following, first_channel_id, "
                "refollow_count, updated_at) VALUES (1, 'o1', true, 1, 0, 10)"
            )
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    schema = inspect(engine)
    assert schema.get_foreign_keys("events") == []
    assert schema.get_foreign_keys("followers") == []
    assert schema.get_foreign_keys("scenes") != []  # untouched
    with engine.connect() as conn:
        assert conn.execute(text("SELECT dedup_key, channel_id FROM events")).all() == [("k1", 1)]
        assert conn.execute(text("SELECT openid, first_channel_id FROM followers")).all() == [
            ("o1", 1)
        ]
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert len(inspect(engine).get_foreign_keys("followers")) == 3
    upgrade(engine)  # and up again: the database is left as the other tests expect it
    assert inspect(engine).get_foreign_keys("events") == []
    engine.dispose()


def _reset(engine: Engine) -> None:
    """Drop every table (the fixture's database is migrated to head)."""
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
