"""The admin session cookie of the dashboard: a random token, revocable, made and checked
by :class:`wxqr.service.admin.AdminAuth`. HttpOnly, SameSite=Lax, Secure on https."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from wxqr.service.admin import SESSION_SECONDS
from wxqr.service.workspace import Workspace

__all__ = ["COOKIE", "clear_session", "login_redirect", "session_of", "set_session"]

COOKIE = "wxqr_session"


def session_of(request: Request, ws: Workspace) -> str | None:
    """The request's valid session token, or ``None``."""
    token = request.cookies.get(COOKIE)
    return token if token and ws.admin.session_valid(token) else None


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dashboard/login?next={quote(target, safe='')}", status_code=303)


def set_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        max_age=SESSION_SECONDS,
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
