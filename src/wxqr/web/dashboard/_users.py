"""The users page (admins only): the team, their roles and accounts; add, change, remove.

Thin over :class:`wxqr.service.dashboard_users.DashboardUsers` (the same rules as
``wxqr user``: the last admin stays, an admin sees every account). Passwords are typed
once, on creation, and never shown again; a user changes theirs with the CLI
(``wxqr user set-password``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request, Response
from starlette.datastructures import FormData

from wxqr.i18n import N_, Msg
from wxqr.service.dashboard_users import Role
from wxqr.service.errors import ServiceError
from wxqr.web.dashboard._errors import DashboardRoute, error_page
from wxqr.web.dashboard._guard import Admin, AdminPost, Posted, Visit, common
from wxqr.web.dashboard._templates import page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard/users", include_in_schema=False, route_class=DashboardRoute)

ROLES = tuple(role.value for role in (Role.VIEWER, Role.EDITOR, Role.ADMIN))
NamePath = Path(min_length=1, max_length=64)


def _users_page(
    request: Request,
    visit: Visit,
    *,
    form: dict[str, Any] | None = None,
    notice: Msg | None = None,
    exc: ServiceError | None = None,
) -> Response:
    context: dict[str, Any] = {
        **common(visit, None),
        "users": visit.ws.dashboard_users.list_users(),
        "all_accounts": visit.ws.accounts(),
        "roles": ROLES,
        "form": form or {"role": "viewer", "accounts": []},
        "notice": notice,
    }
    if exc is not None:
        return error_page(request, exc, template="users.html", **context)
    return page(request, "users.html", **context)


def _role_and_accounts(posted: FormData) -> tuple[str, list[str]]:
    role = str(posted.get("role", "viewer"))
    accounts = [str(a) for a in posted.getlist("accounts")]
    # An admin sees every account: ticked boxes do not apply to the role.
    return role, [] if role == Role.ADMIN.value else accounts


@router.get("")
def users_page(request: Request, visit: Admin) -> Response:
    return _users_page(request, visit)


@router.post("")
def add_user(request: Request, visit: AdminPost, posted: Posted) -> Response:
    role, accounts = _role_and_accounts(posted)
    name = str(posted.get("name", ""))
    try:
        made = visit.ws.dashboard_users.add(
            name, str(posted.get("password", "")), role=role, accounts=accounts
        )
    except ServiceError as exc:
        shown = {"name": name, "role": role, "accounts": accounts}
        return _users_page(request, visit, form=shown, exc=exc)
    return _users_page(request, visit, notice=N_("User %(name)s added.", name=made.name))


@router.post("/{name}/role")
def change_role(
    request: Request, visit: AdminPost, posted: Posted, name: str = NamePath
) -> Response:
    role, accounts = _role_and_accounts(posted)
    try:
        changed = visit.ws.dashboard_users.set_role(name, role, accounts=accounts)
    except ServiceError as exc:
        return _users_page(request, visit, exc=exc)
    return _users_page(request, visit, notice=N_("User %(name)s changed.", name=changed.name))


@router.post("/{name}/remove")
def remove_user(request: Request, visit: AdminPost, name: str = NamePath) -> Response:
    try:
        gone = visit.ws.dashboard_users.remove(name)
    except ServiceError as exc:
        return _users_page(request, visit, exc=exc)
    return _users_page(request, visit, notice=N_("User %(name)s removed.", name=gone.name))
