"""The database URL rule, shared by :mod:`wxqr.settings` and :mod:`wxqr.store`.

It lives apart from both so that the settings can check ``WXQR_DATABASE_URL`` without
importing the store (SQLAlchemy, the tables), and the store uses the same rule.
"""

from __future__ import annotations

__all__ = ["DEFAULT_DATABASE_URL", "SUPPORTED_BACKENDS", "database_backend", "normalize_url"]

DEFAULT_DATABASE_URL = "sqlite:///wxqr.sqlite3"

#: The database systems wxqr's store and migrations are written and tested for.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def normalize_url(url: str) -> str:
    """Map plain ``postgres://`` / ``postgresql://`` URLs to the psycopg 3 driver."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def database_backend(url: str) -> str | None:
    """The backend name of ``url`` (``sqlite``, ``postgresql``, ``mysql``…), None if it is
    not a URL at all. Never returns anything of the URL past its scheme (no password)."""
    scheme, separator, _rest = normalize_url(url).partition("://")
    if not separator or not scheme:
        return None
    return scheme.split("+", 1)[0].lower()
