"""The dashboard's one handler of service errors: an HTML error page.

Every dashboard route uses :class:`DashboardRoute`; a :class:`ServiceError` a handler
lets through becomes the page ``base.html`` with the error's message and the status the
REST API would answer (:func:`wxqr.web.api._problems.service_status`: unknown account
or channel 404, invalid input 422, WeChat failures 502...), never a 500; parameters that
do not validate (a bad date, a number out of range) are a 422 page too, not FastAPI's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from wxqr.i18n import N_
from wxqr.service.errors import ServiceError
from wxqr.web.api._problems import service_status
from wxqr.web.dashboard._templates import page

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

        return handler
