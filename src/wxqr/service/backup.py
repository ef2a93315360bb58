"""Backups of the store while wxqr runs, and restoring one into an empty database.

* SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent
  snapshot while the webhook keeps writing (a plain ``cp`` of a database in WAL mode can
  miss what is still in the WAL). It copies in one step: in WAL mode that is one read
  transaction, which never blocks the writer, whereas a copy in several steps starts over
  whenever another process writes, and under a steady load of pushes might never end.
  Restoring copies the backup into the database of ``WXQR_DATABASE_URL`` the same way.
* PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot in one transaction) and
  ``pg_restore --no-owner``; both must be installed (Debian: ``postgresql-client``, of
  the server's major version or newer). The password goes to them in ``PGPASSWORD``,
  never on a command line that ``ps`` shows.

Restoring refuses a database that already holds accounts or events unless ``force``
(restoring over live data by mistake is the one unrecoverable operation here); stop
``wxqr serve`` before a restore. Every error is a :class:`ServiceError` with a person's
message (no URL, no password).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL, make_url

from wxqr.service.errors import ConflictError, InvalidInputError, ServiceError, UnavailableError
from wxqr.store import tables as t

__all__ = ["BackupResult", "backup_database", "restore_database"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore did: the file, the backend, events in the copy."""

    path: Path
    backend: str
    events: int


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        if not inspect(conn).has_table("events"):
            return 0
        return int(conn.execute(select(func.count()).select_from(t.events)).scalar_one())


def _holds_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        if not inspect(conn).has_table("accounts"):
            return False
        for table in (t.accounts, t.events):
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                return True
    return False


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise InvalidInputError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _pg_env(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq options and environment for ``url`` (the password only in the environment)."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise UnavailableError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise ServiceError(f"{what} failed: {lines[0] if lines else f'exit {result.returncode}'}")


def _new_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (a backup holds secrets), never overwriting."""
    if not path.parent.is_dir():
        raise InvalidInputError(f"{path.parent} is not a directory")
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise ConflictError(f"{path} already exists: choose a new file for the backup") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot create {path}: {exc.strerror}") from None


def backup_database(engine: Engine, path: Path) -> BackupResult:
    """Write a consistent copy of ``engine``'s database to ``path`` (a new file, 0600)."""
    url = engine.url
    source_path = _sqlite_path(url) if url.get_backend_name() == "sqlite" else None
    _new_private_file(path)
    try:
        if source_path is not None:
            source = sqlite3.connect(source_path)
            target = sqlite3.connect(path)
            try:
                source.backup(target)  # one step: one consistent read transaction
            finally:
                target.close()
                source.close()
            return BackupResult(path, "sqlite", _count_in(make_url(f"sqlite:///{path}")))
        args, env = _pg_env(url)
        _run([_tool("pg_dump"), "--format=custom", "--file", str(path), *args], env, "pg_dump")
        return BackupResult(path, "postgresql", _events(engine))
    except BaseException:
        path.unlink(missing_ok=True)  # no half-written backup left to be trusted later
        raise


def _count_in(url: URL) -> int:
    from wxqr.store.db import make_engine

    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        return _events(engine)
    finally:
        engine.dispose()


def _kind(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_PGDUMP_MAGIC):
        return "postgresql"
    raise InvalidInputError(f"{path} is neither a SQLite backup nor a pg_dump custom archive")


def restore_database(engine: Engine, path: Path, *, force: bool = False) -> BackupResult:
    """Put the backup at ``path`` into ``engine``'s database (empty unless ``force``)."""
    backend = engine.url.get_backend_name()
    kind = _kind(path)
    if kind != backend:
        raise InvalidInputError(
            f"{path} is a {kind} backup; WXQR_DATABASE_URL is a {backend} database"
        )
    if not force and _holds_data(engine):
        raise ConflictError(
            "the database already holds accounts or events: restore into an empty "
            "database, or pass --force to replace what it holds"
        )
    if backend == "sqlite":
        target_path = _sqlite_path(engine.url)
        engine.dispose()  # no pooled connection may hold the old file open
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        args, env = _pg_env(engine.url)
        engine.dispose()
        _run(
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", *args, str(path)],
            env,
            "pg_restore",
        )
    return BackupResult(path, backend, _events(engine))
