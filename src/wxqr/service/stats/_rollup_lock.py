"""The one lock every rollup writer (fold, rebuild) takes, so none folds an event twice.

SQLite: ``BEGIN IMMEDIATE`` (the database's single writer). PostgreSQL: an advisory lock;
a rebuild also reads the log in one ``REPEATABLE READ`` snapshot, taken after the lock is
held (a session lock, so the snapshot cannot predate the previous holder's commit): the
events it sees are exactly the ones whose queue entries it removes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

__all__ = ["rollup_writer"]

_PG_ROLLUP_LOCK = 0x77787172  # "wxqr"


@contextmanager
def rollup_writer(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A connection in a committed-on-exit transaction holding the rollup lock."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            with conn.begin():
                dbapi = conn.connection.dbapi_connection
                if not getattr(dbapi, "in_transaction", False):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
            return
        if not snapshot:
            with conn.begin():
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_ROLLUP_LOCK})")
                yield conn
            return
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_ROLLUP_LOCK})")
        conn.commit()  # ends SQLAlchemy's autobegun (autocommit) transaction
        try:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn
        finally:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_ROLLUP_LOCK})")
            conn.commit()
