"""Helpers and fixtures shared by the whole suite (registered in tests/conftest.py).

Fixtures live in plugin modules here (``pytest_plugins``), so no conftest imports
another: ``databases`` (fresh migrated SQLite/PostgreSQL databases), ``fixtures``
(the emulator, a workspace, a running wxqr stack). The other modules are plain helpers.
"""
