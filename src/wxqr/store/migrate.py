"""Schema migrations (Alembic), run programmatically: no alembic.ini, no URL in files.

The migration scripts live in the ``wxqr.store.migrations`` package so they ship in the
wheel. :func:`upgrade` is what ``wxqr serve`` runs on start and ``wxqr db upgrade`` runs
by hand; several processes may call it at once (PostgreSQL: an advisory lock serialises
them; SQLite: the write lock does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "previous_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# pg_advisory_xact_lock key: "wxqr" in ASCII, so concurrent upgrades wait for each other.
_PG_LOCK_KEY = 0x77787172
_process_lock = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (and ``connection``, if any)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of wxqr."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def previous_revision(revision: str) -> str:
    """The revision before ``revision`` (``"base"``: the empty database); ValueError if
    ``revision`` is not one this wxqr ships."""
    script = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    if script is None:
        raise ValueError(f"unknown revision {revision!r}")
    down = script.down_revision
    if down is None:
        return "base"
    if not isinstance(down, str):  # pragma: no cover - wxqr's history has no merges
        raise ValueError(f"revision {revision!r} has several parents")
    return down


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database behind ``engine`` back to ``revision`` (``"base"``: empty), with
    the same locks as :func:`upgrade`."""
    _migrate(engine, lambda config: command.downgrade(config, revision))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision`` (default: the newest)."""
    _migrate(engine, lambda config: command.upgrade(config, revision))


def _migrate(engine: Engine, run: Callable[[Config], None]) -> None:
    # Alembic's ``context`` is process-global: one migration at a time per process.
    with _process_lock, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Migrations may outlast the engine's statement_timeout (WXQR_DB_…): not here.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        elif connection.dialect.name == "sqlite":
            # Take the write lock before Alembic reads the current revision, and make the
            # DDL part of this transaction (pysqlite would otherwise autocommit each one).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        run(alembic_config(connection))
