"""Every dashboard route declares the guard (web/dashboard/_guard.py), with the role its
method needs: forms (POST) need an editor or an admin and the CSRF check; only the login,
logout, language switch, static files and redirects go without."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from wxqr.web.dashboard import _guard
from wxqr.web.dashboard import router as dashboard_router

UNGUARDED = {
    ("GET", "/"),
    ("GET", "/dashboard"),
    ("GET", "/dashboard/login"),
    ("POST", "/dashboard/login"),  # answered by the password itself, throttled
    ("POST", "/dashboard/logout"),  # checks its own CSRF token against its session
    ("GET", "/dashboard/language"),
}
PAGE_GUARDS = {_guard.viewer_page, _guard.viewer_file, _guard.editor_page, _guard.admin_page}
FORM_GUARDS = {_guard.editor_post, _guard.admin_post}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every route of the dashboard, through its included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
            yield from _routes(route.original_router.routes)


def test_every_dashboard_route_declares_the_guard() -> None:
    seen = 0
    for route in _routes(dashboard_router.routes):
        if route.path.startswith("/static"):
            continue
        for method in route.methods:
            if (method, route.path) in UNGUARDED:
                continue
            calls = set(_calls(route.dependant))
            guards = FORM_GUARDS if method == "POST" else PAGE_GUARDS
            assert calls & guards, f"{method} {route.path} has no guard"
            seen += 1
    assert seen >= 30  # the pages, the forms, the images and the JSON of the dashboard
