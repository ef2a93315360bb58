"""Migration 0008: the single admin password of earlier versions becomes the user admin
(and back on a downgrade), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from wxqr.service.admin import AdminAuth, hash_password
from wxqr.service.dashboard_users import DashboardUsers, Role
from wxqr.store.migrate import downgrade, previous_revision, upgrade
from wxqr.store.tables import dashboard_sessions, settings

PASSWORD = "correct horse battery"
KEY = "dashboard.admin_password"
BEFORE = previous_revision("0008")


def test_the_admin_password_becomes_the_user_admin_and_back(engine: Engine) -> None:
    downgrade(engine, BEFORE)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(settings).values(key=KEY, value=hash_password(PASSWORD), updated_at=1)
            )
            conn.execute(
                insert(dashboard_sessions).values(
                    token_hash="a" * 64, user_id=None, created_at=1, expires_at=2**40
                )
            )
        upgrade(engine)
        team = DashboardUsers(engine, AdminAuth(engine))
        admin = team.get("admin")
        assert admin.role is Role.ADMIN
        assert admin.appids is None
        with engine.connect() as conn:
            keys = conn.execute(select(settings.c.key)).scalars().all()
            owners = conn.execute(select(dashboard_sessions.c.user_id)).scalars().all()
        assert KEY not in keys
        assert owners == [admin.id]  # the old session is the admin's: nobody logged out
        assert team.login("admin", PASSWORD) is not None

        downgrade(engine, BEFORE)
        with engine.connect() as conn:
            stored = conn.execute(select(settings.c.value).where(settings.c.key == KEY)).scalar()
        assert str(stored).startswith("scrypt$")
    finally:
        upgrade(engine)


def test_an_install_without_a_password_gets_no_user(engine: Engine) -> None:
    downgrade(engine, BEFORE)
    try:
        upgrade(engine)
        assert DashboardUsers(engine, AdminAuth(engine)).list_users() == []
    finally:
        upgrade(engine)
