from tests.support.databases import database_url, engine, pg_session_url, sqlite_template

__all__ = ["database_url", "engine", "pg_session_url", "sqlite_template"]
