"""The dashboard's one handler of service errors: an HTML error page.

Every dashboard route uses :class:`DashboardRoute`; a :class:`ServiceError` a handler
lets through becomes the page ``base.html`` with the error's message and the status the
REST API would answer (:func:`wxqr.web.api._problems.service_status`: unknown account
or channel 404, invalid input 422, WeChat failures 502...), never a 500; parameters that
do not validate (a bad date, a number out of range) are a 422 page too, not FastAPI's JSON.
The guard's refusals (:mod:`._guard`) are answered here too: no session, the login page
(or 401 for images and JSON); a role that does not allow the route, the 403 page; a form
without its CSRF token, 403.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from wxqr.i18n import N_
from wxqr.service.errors import ServiceError
from wxqr.web.api._problems import service_status
from wxqr.web.dashboard._guard import CsrfRefused, LoginNeeded, RoleRefused, common
from wxqr.web.dashboard._session import login_redirect
from wxqr.web.dashboard._templates import language_of, page

__all__ = ["DashboardRoute", "error_page", "invalid_request_page"]


def error_page(
    request: Request, exc: ServiceError, *, template: str = "base.html", **context: Any
) -> Response:
    """The page telling the user what went wrong: ``template`` (a form shown again with
    what was typed) or the bare page, with the status the REST API would answer."""
    status, _slug = service_status(exc)
    return page(request, template, status, error=exc.detail, **context)


def invalid_request_page(request: Request, exc: RequestValidationError) -> Response:
    """A 422 page for an address the dashboard cannot read (a date that is no date, a
    number out of range, an unknown choice), naming the parts at fault."""
    names = sorted({str(error.get("loc", ("", "?"))[-1]) for error in exc.errors()})
    detail = N_(
        "This address holds a value the dashboard cannot use: %(names)s.", names=", ".join(names)
    )
    return page(request, "base.html", 422, error=detail)


_ROLE_NAMES = {"viewer": N_("viewer"), "editor": N_("editor"), "admin": N_("admin")}


def refused_page(request: Request, exc: RoleRefused) -> Response:
    """403: the page exists but the user's role does not allow it."""
    lang = language_of(request)
    detail = N_(
        "Your role (%(role)s) does not allow this: it needs %(needed)s.",
        role=_ROLE_NAMES[exc.visit.user.role.value].render(lang),
        needed=_ROLE_NAMES[exc.needed.value].render(lang),
    )
    return page(request, "base.html", 403, error=detail, **common(exc.visit, None))


class DashboardRoute(APIRoute):
    """A dashboard route whose service errors come back as an error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except ServiceError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                return invalid_request_page(request, exc)
            except LoginNeeded as exc:
                if exc.page:
                    return login_redirect(request)
                return JSONResponse({"detail": "log in"}, status_code=401)
            except RoleRefused as exc:
                return refused_page(request, exc)
            except CsrfRefused:
                return Response("invalid form token: reload the page", status_code=403)

        return handler
