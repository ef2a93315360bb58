"""The dashboard: server-rendered pages (Jinja2) under ``/dashboard``, assets under ``/static``.

Log in as a dashboard user (``wxqr user add``; roles: :mod:`wxqr.service.dashboard_users`).
Everything the pages load (CSS, JavaScript, Chart.js) is served by wxqr itself. See
docs/dashboard.md.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from wxqr.web.dashboard._channel_edit import router as channel_edit_router
from wxqr.web.dashboard._import import router as import_router  # dashboard-team:
from wxqr.web.dashboard._lifecycle import router as lifecycle_router  # lifecycle:
from wxqr.web.dashboard._overview import router as overview_router
from wxqr.web.dashboard._pages import router as pages_router
from wxqr.web.dashboard._posters import router as posters_router  # posters:
from wxqr.web.dashboard._scans import router as scans_router  # dashboard-team:
from wxqr.web.dashboard._scene_replies import router as scene_replies_router  # dashboard-team:
from wxqr.web.dashboard._settings import router as settings_router
from wxqr.web.dashboard._static import router as static_router
from wxqr.web.dashboard._users import router as users_router  # dashboard-team:
from wxqr.web.dashboard._webhooks import router as webhooks_router  # webhooks:

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(static_router)
router.include_router(overview_router)
router.include_router(pages_router)
router.include_router(channel_edit_router)
router.include_router(settings_router)
router.include_router(webhooks_router)  # webhooks:
router.include_router(posters_router)  # posters:
router.include_router(users_router)  # dashboard-team:
router.include_router(scene_replies_router)  # dashboard-team:
router.include_router(import_router)  # dashboard-team:
router.include_router(scans_router)  # dashboard-team:
router.include_router(lifecycle_router)  # lifecycle:


@router.get("/", include_in_schema=False)
def _home() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=307)
