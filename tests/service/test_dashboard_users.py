"""The dashboard's team: users with roles and accounts, their logins and sessions."""

from __future__ import annotations

import pytest

from tests.support.stack import APPID
from wxqr.service.access import AccessScope
from wxqr.service.accounts import Account
from wxqr.service.dashboard_users import Role
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]
PASSWORD = "correct horse battery"


def test_users_are_added_listed_and_their_roles_changed(ws: WS) -> None:
    workspace, _ = ws
    team = workspace.dashboard_users
    boss = team.add("Boss", PASSWORD, role=Role.ADMIN)
    assert boss.name == "boss"  # one spelling: Boss and boss are one user
    assert boss.scope == AccessScope()
    editor = team.add("li.lei", PASSWORD, role="editor", accounts=[APPID])
    assert editor.appids == frozenset({APPID})
    assert editor.scope == AccessScope(appids=frozenset({APPID}), read_only=False)
    viewer = team.add("han_mei", PASSWORD)  # a viewer of every account by default
    assert viewer.role is Role.VIEWER
    assert viewer.scope == AccessScope(read_only=True)
    assert [u.name for u in team.list_users()] == ["boss", "han_mei", "li.lei"]
    assert "password" not in repr(team.list_users()).lower()

    with pytest.raises(ConflictError):
        team.add("BOSS", PASSWORD)
    with pytest.raises(InvalidInputError):
        team.add("has space", PASSWORD)
    with pytest.raises(InvalidInputError):
        team.add("short", "1234567")
    with pytest.raises(InvalidInputError):
        team.add("x", PASSWORD, role="owner")
    with pytest.raises(NotFoundError):
        team.add("x", PASSWORD, accounts=["wx-not-there"])
    with pytest.raises(InvalidInputError):  # an admin sees every account
        team.add("x", PASSWORD, role=Role.ADMIN, accounts=[APPID])

    promoted = team.set_role("han_mei", "editor", accounts=[APPID])
    assert promoted.role is Role.EDITOR
    assert promoted.appids == frozenset({APPID})
    assert team.set_role("han_mei", "viewer").appids is None
    with pytest.raises(NotFoundError):
        team.set_role("nobody", "viewer")


def test_the_last_admin_stays(ws: WS) -> None:
    team = ws[0].dashboard_users
    team.add("one", PASSWORD, role=Role.ADMIN)
    with pytest.raises(ConflictError):
        team.set_role("one", Role.EDITOR)
    with pytest.raises(ConflictError):
        team.remove("one")
    team.add("two", PASSWORD, role=Role.ADMIN)
    assert team.set_role("one", Role.VIEWER).role is Role.VIEWER
    with pytest.raises(ConflictError):
        team.remove("two")


def test_login_sessions_and_their_end(ws: WS) -> None:
    workspace, _ = ws
    team = workspace.dashboard_users
    team.add("admin2", PASSWORD, role=Role.ADMIN)
    team.add("ed", PASSWORD, role=Role.EDITOR)
    assert team.login("ed", "wrong password") is None
    assert team.login("nobody", PASSWORD) is None
    done = team.login(" ED ", PASSWORD)
    assert done is not None
    user, token = done
    assert user.name == "ed"
    assert user.last_login_at is not None
    seen = team.session_user(token)
    assert seen is not None
    assert seen.role is Role.EDITOR
    assert team.session_user(None) is None
    assert team.session_user("garbage") is None
    assert team.session_user("x" * 10_000) is None

    # A role change counts from the next request: the session reads the user each time.
    team.set_role("ed", Role.VIEWER)
    seen = team.session_user(token)
    assert seen is not None
    assert seen.role is Role.VIEWER

    other = team.login("admin2", PASSWORD)
    assert other is not None
    team.set_password("ed", "another long one")  # logs ed out, nobody else
    assert team.session_user(token) is None
    assert team.session_user(other[1]) is not None
    assert team.login("ed", PASSWORD) is None
    again = team.login("ed", "another long one")
    assert again is not None
    team.remove("ed")
    assert team.session_user(again[1]) is None
    assert team.login("ed", "another long one") is None


def test_the_language_is_remembered_per_user(ws: WS) -> None:
    team = ws[0].dashboard_users
    made = team.add("lang", PASSWORD)
    team.set_language(made.id, "zh_CN")
    assert team.get("lang").language == "zh_CN"
    with pytest.raises(InvalidInputError):
        team.set_language(made.id, "zh-CN; drop table")


def test_the_admin_password_command_is_the_user_admin(ws: WS) -> None:
    workspace, _ = ws
    assert not workspace.admin.has_password()
    workspace.admin.set_password(PASSWORD)  # wxqr admin set-password
    admin = workspace.dashboard_users.get("admin")
    assert admin.role is Role.ADMIN
    assert admin.appids is None
    done = workspace.dashboard_users.login("admin", PASSWORD)
    assert done is not None
    workspace.admin.set_password("a brand new password")
    assert workspace.dashboard_users.session_user(done[1]) is None
    assert workspace.dashboard_users.login("admin", "a brand new password") is not None
