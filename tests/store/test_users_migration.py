"""Migration 0008: the single admin password of earlier versions becomes the user admin."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from wxqr.service.admin import AdminAuth, hash_password
from wxqr.service.dashboard_users import DashboardUsers, Role
from wxqr.store.db import make_engine
from wxqr.store.migrate import downgrade, upgrade
from wxqr.store.tables import dashboard_sessions, settings

PASSWORD = "correct horse battery"


def test_the_admin_password_becomes_the_user_admin_and_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        upgrade(engine, "0006")
        with engine.begin() as conn:
            conn.execute(
                insert(settings).values(
                    key="dashboard.admin_password",
                    value=hash_password(PASSWORD),
                    updated_at=1,
                )
            )
            conn.execute(
                insert(dashboard_sessions).values(
                    token_hash="a" * 64, user_id=None, created_at=1, expires_at=2**40
                )
            )
        upgrade(engine)
        auth = AdminAuth(engine)
        team = DashboardUsers(engine, auth)
        admin = team.get("admin")
        assert admin.role is Role.ADMIN
        assert admin.appids is None
        assert team.login("admin", PASSWORD) is not None
        with engine.connect() as conn:
            keys = conn.execute(select(settings.c.key)).scalars().all()
            owners = conn.execute(select(dashboard_sessions.c.user_id)).scalars().all()
        assert "dashboard.admin_password" not in keys
        assert set(owners) == {admin.id}  # the old session is the admin's (and the new)

        downgrade(engine, "0006")
        with engine.connect() as conn:
            stored = conn.execute(
                select(settings.c.value).where(settings.c.key == "dashboard.admin_password")
            ).scalar_one()
        assert stored.startswith("scrypt$")
    finally:
        engine.dispose()


def test_an_install_without_a_password_gets_no_user(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    try:
        upgrade(engine)
        assert DashboardUsers(engine, AdminAuth(engine)).list_users() == []
    finally:
        engine.dispose()
