"""Alembic environment of wxqr: always run programmatically by :mod:`wxqr.store.migrate`.

The caller passes an open connection in ``config.attributes["connection"]``; there is no
alembic.ini and no URL in this file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from wxqr.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("wxqr migrations run through wxqr.store.migrate (no connection given)")
_run(_connection)
