"""API keys (hashed, shown once, revocable) and the dashboard admin login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wxqr.service.accounts import Account
from wxqr.service.admin import AdminAuth, hash_password, verify_password
from wxqr.service.apikeys import hash_key
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError
from wxqr.service.workspace import Workspace
from wxqr.store.tables import api_keys, dashboard_sessions, settings

WS = tuple[Workspace, Account]


def test_api_keys_are_stored_hashed_and_revocable(ws: WS) -> None:
    workspace, _ = ws
    keys = workspace.api_keys
    created = keys.create("ci")
    assert created.secret.startswith(created.key.prefix + "_")
    assert created.secret not in repr(created)
    with workspace.engine.connect() as conn:
        row = conn.execute(select(api_keys)).mappings().one()
    assert row["key_hash"] == hash_key(created.secret)
    assert created.secret not in str(dict(row))

    found = keys.authenticate(created.secret)
    assert found is not None
    assert found.name == "ci"
    assert found.last_used_at is not None
    wrong_last = "A" if created.secret[-1] != "A" else "B"
    assert keys.authenticate(created.secret[:-1] + wrong_last) is None
    assert keys.authenticate("") is None
    assert keys.authenticate(None) is None
    assert keys.authenticate("Bearer " + created.secret) is None

    with pytest.raises(ConflictError):
        keys.create("ci")
    with pytest.raises(InvalidInputError):
        keys.create("has space")
    keys.revoke("ci")
    assert keys.authenticate(created.secret) is None
    assert not keys.list_keys()[0].active
    with pytest.raises(NotFoundError):
        keys.revoke("nope")


def test_password_hashes() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$")
    assert "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("x", "garbage")
    assert hash_password("same") != hash_password("same")  # salted


def test_admin_sessions(ws: WS) -> None:
    workspace, _ = ws
    now = [1_700_000_000.0]
    admin = AdminAuth(workspace.engine, clock=lambda: now[0], session_seconds=3600)
    assert not admin.has_password()
    assert admin.login("anything at all") is None
    with pytest.raises(InvalidInputError):
        admin.set_password("short")
    admin.set_password("correct horse")
    with workspace.engine.connect() as conn:
        values = [r.value for r in conn.execute(select(settings))]
    assert all("correct horse" not in v for v in values)

    assert admin.login("wrong password") is None
    token = admin.login("correct horse")
    assert token is not None
    assert admin.session_valid(token)
    csrf = admin.csrf_token(token)
    other = "A" if csrf[-1] != "A" else "B"
    assert admin.csrf_valid(token, csrf)
    assert not admin.csrf_valid(token, csrf[:-1] + other)

    other_last = "A" if token[-1] != "A" else "B"
    assert not admin.session_valid(token[:-1] + other_last)
    assert not admin.session_valid("garbage")
    assert not admin.session_valid("x" * 10_000)
    assert not admin.csrf_valid(token, "non-ascii ☃")  # refused, not an error

    now[0] += 3601
    assert not admin.session_valid(token)  # expired
    now[0] -= 3601
    assert admin.session_valid(token)
    admin.set_password("battery staple")
    assert not admin.session_valid(token)  # a new password logs everyone out


def test_every_login_gets_its_own_session_and_logout_revokes_only_it(ws: WS) -> None:
    workspace, _ = ws
    now = 1_700_000_000.0  # six logins within the same second
    admin = AdminAuth(workspace.engine, clock=lambda: now, session_seconds=3600)
    admin.set_password("correct horse")
    tokens = [admin.login("correct horse") for _ in range(6)]
    assert None not in tokens
    assert len(set(tokens)) == 6
    assert all(admin.session_valid(t) for t in tokens)
    assert len({admin.csrf_token(t) for t in tokens if t}) == 6

    first = tokens[0]
    assert first is not None
    assert admin.logout(first)
    assert not admin.session_valid(first)  # the old cookie no longer works
    assert not admin.logout(first)  # already revoked
    assert all(admin.session_valid(t) for t in tokens[1:])

    # The store holds only hashes of the tokens.
    with workspace.engine.connect() as conn:
        stored = [str(v) for v in conn.execute(select(dashboard_sessions.c.token_hash))]
    assert stored
    assert not set(stored) & {t for t in tokens if t}


def test_expired_and_revoked_sessions_are_pruned_at_login(ws: WS) -> None:
    workspace, _ = ws
    now = [1_700_000_000.0]
    admin = AdminAuth(workspace.engine, clock=lambda: now[0], session_seconds=60)
    admin.set_password("correct horse")
    old = admin.login("correct horse")
    gone = admin.login("correct horse")
    assert old is not None
    assert gone is not None
    admin.logout(gone)
    now[0] += 61
    fresh = admin.login("correct horse")
    assert fresh is not None
    with workspace.engine.connect() as conn:
        rows = conn.execute(select(dashboard_sessions)).all()
    assert len(rows) == 1
