"""The one guard of every dashboard route: who is logged in, what their role allows, and
the workspace limited to their accounts; for forms, the CSRF token too.

Each route names what it needs as a parameter type: ``Viewer`` (any logged-in user),
``Editor`` or ``Admin`` for pages, ``EditorPost`` / ``AdminPost`` for forms (the form
is read once, on the event loop, by :func:`posted`; the rest runs in the thread pool:
these dependencies are plain ``def``), ``ViewerFile`` for images and JSON (401 instead of a
redirect to the login page). A user without the role gets the 403 page; a form without
this session's CSRF token gets 403. :attr:`Visit.ws` is the workspace scoped to the
user's accounts (read-only for viewers: the services refuse their writes too), so a
channel of another account is *not found*, as for API keys (:mod:`wxqr.service.access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from wxqr.service.accounts import Account
from wxqr.service.dashboard_users import DashboardUser, Role
from wxqr.service.workspace import Workspace
from wxqr.web.api._context import AdminWS
from wxqr.web.dashboard._session import COOKIE

__all__ = [
    "Admin",
    "AdminPost",
    "CsrfRefused",
    "Editor",
    "EditorPost",
    "LoginNeeded",
    "Posted",
    "RoleRefused",
    "Viewer",
    "ViewerFile",
    "Visit",
    "common",
    "fields",
]


#: Starlette's default (1 MiB) would refuse a poster's artwork before the bound applies.
_MAX_PART_BYTES = 64 * 1024 * 1024


class LoginNeeded(Exception):
    """No live session: the login page (``page``) or a bare 401 (images, JSON)."""

    def __init__(self, *, page: bool) -> None:
        super().__init__("log in")
        self.page = page


class CsrfRefused(Exception):
    """A form without this session's CSRF token."""


@dataclass(frozen=True)
class Visit:
    """The logged-in user of a request, their session and their (scoped) workspace."""

    user: DashboardUser
    session: str
    csrf: str
    ws: Workspace


class RoleRefused(Exception):
    """The user's role does not allow the route."""

    def __init__(self, visit: Visit, needed: Role) -> None:
        super().__init__(f"this needs the role {needed.value}")
        self.visit = visit
        self.needed = needed


def _visit(request: Request, ws: Workspace, needed: Role, *, page: bool = True) -> Visit:
    token = request.cookies.get(COOKIE)
    user = ws.dashboard_users.session_user(token)
    if user is None or token is None:
        raise LoginNeeded(page=page)
    visit = Visit(
        user=user, session=token, csrf=ws.admin.csrf_token(token), ws=ws.scoped(user.scope)
    )
    if not user.role.allows(needed):
        raise RoleRefused(visit, needed)
    return visit


async def posted(request: Request) -> FormData:
    """The request's form (read once; FastAPI caches it for the other dependencies).
    Parts may be as large as the body itself: the body is already bounded per path by
    :mod:`wxqr.web.request_bounds` (artwork and logo uploads take the import bound)."""
    return await request.form(max_part_size=_MAX_PART_BYTES)


def fields(form: FormData) -> dict[str, str]:
    """The form's text fields (files left out)."""
    return {k: v for k, v in form.items() if not isinstance(v, UploadFile)}


def _checked(visit: Visit, form: FormData) -> Visit:
    token = form.get("csrf")
    if not isinstance(token, str) or not visit.ws.admin.csrf_valid(visit.session, token):
        raise CsrfRefused
    return visit


def viewer_page(request: Request, ws: AdminWS) -> Visit:
    return _visit(request, ws, Role.VIEWER)


def viewer_file(request: Request, ws: AdminWS) -> Visit:
    return _visit(request, ws, Role.VIEWER, page=False)


def editor_page(request: Request, ws: AdminWS) -> Visit:
    return _visit(request, ws, Role.EDITOR)


def admin_page(request: Request, ws: AdminWS) -> Visit:
    return _visit(request, ws, Role.ADMIN)


Posted = Annotated[FormData, Depends(posted)]


def editor_post(request: Request, ws: AdminWS, form: Posted) -> Visit:
    return _checked(_visit(request, ws, Role.EDITOR), form)


def admin_post(request: Request, ws: AdminWS, form: Posted) -> Visit:
    return _checked(_visit(request, ws, Role.ADMIN), form)


Viewer = Annotated[Visit, Depends(viewer_page)]
ViewerFile = Annotated[Visit, Depends(viewer_file)]
Editor = Annotated[Visit, Depends(editor_page)]
Admin = Annotated[Visit, Depends(admin_page)]
EditorPost = Annotated[Visit, Depends(editor_post)]
AdminPost = Annotated[Visit, Depends(admin_post)]


def common(visit: Visit, account: Account | None) -> dict[str, Any]:
    """What every page's frame shows: the user, the accounts they see, the CSRF token,
    and what their role allows (the templates hide the rest)."""
    accounts = visit.ws.accounts()
    many = len(accounts) > 1
    return {
        "logged_in": True,
        "user": visit.user,
        "can_edit": visit.user.can_edit,
        "is_admin": visit.user.is_admin,
        "csrf": visit.csrf,
        "accounts": accounts,
        "account": account,
        "account_query": f"?account={quote(account.appid)}" if account and many else "",
    }
