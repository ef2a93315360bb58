"""``wxqr serve``: migrate the database, then run the web app (webhook, API, dashboard)."""

from __future__ import annotations

import importlib.util
from typing import Any

import typer
import uvicorn

from wxqr.cli._signals import exit_cleanly_on_sigterm
from wxqr.cli._ws import load_settings, open_runtime
from wxqr.logs import configure_logging
from wxqr.settings import Settings

__all__ = ["serve", "uvicorn_options"]


def _fast(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def uvicorn_options(
    settings: Settings, *, host: str | None, port: int | None, log_level: str
) -> dict[str, Any]:
    """uvicorn's options: ``--host``/``--port`` win over ``WXQR_HOST``/``WXQR_PORT``."""
    return {
        "host": host or settings.host,
        "port": settings.port if port is None else port,
        "loop": _fast("uvloop", "asyncio"),
        "http": _fast("httptools", "h11"),
        "log_level": log_level.lower(),
        "access_log": False,
        "timeout_graceful_shutdown": 10,
        "forwarded_allow_ips": list(settings.trusted_proxies),  # b-auth: WXQR_TRUSTED_PROXIES
        "log_config": None,  # ops: uvicorn's loggers go through wxqr.logs (timestamps, ids)
    }


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to bind (WXQR_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (WXQR_PORT, default 8000)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    log_level: str = typer.Option("info", "--log-level", help="Log level."),
) -> None:
    """Run wxqr's web server. Runs pending database migrations first."""
    settings = load_settings()
    configure_logging(settings.log_format, log_level)  # ops: WXQR_LOG_FORMAT, timestamps
    options = uvicorn_options(settings, host=host, port=port, log_level=log_level)
    exit_cleanly_on_sigterm()  # ops: a SIGTERM stop (systemd) exits 0 after the drain
    if workers > 1:
        # Migrate (and store the environment's account) once, here; every worker process
        # then opens its own serving runtime (create_app_from_env).
        with open_runtime(migrate=True):
            pass
        uvicorn.run("wxqr.web.app:create_app_from_env", factory=True, workers=workers, **options)
        return
    from wxqr.web.app import create_serving_app

    with open_runtime(migrate=True, serve=True) as runtime:
        uvicorn.run(create_serving_app(runtime), **options)
