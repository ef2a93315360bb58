from tests.channels.conftest import (
    database_url,
    emulator,
    engine,
    pg_session_url,
    sqlite_template,
    stack,
    ws,
)

__all__ = ["database_url", "emulator", "engine", "pg_session_url", "sqlite_template", "stack", "ws"]
