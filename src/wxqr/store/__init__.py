"""Persistence: SQLAlchemy 2 schema, engine and migrations."""
