"""``wxqr serve``: migrate the database, then run the web app (webhook, API, dashboard)."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

import typer
import uvicorn

from wxqr.settings import Settings, SettingsError
from wxqr.store.db import make_engine
from wxqr.store.migrate import upgrade


def _fast(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to bind (WXQR_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (WXQR_PORT, default 8000)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    log_level: str = typer.Option("info", "--log-level", help="Log level."),
) -> None:
    """Run wxqr's web server. Runs pending database migrations first."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": settings.port if port is None else port,
        "loop": _fast("uvloop", "asyncio"),
        "http": _fast("httptools", "h11"),
        "log_level": log_level.lower(),
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }
    if workers > 1:
        uvicorn.run("wxqr.web.app:create_app_from_env", factory=True, workers=workers, **options)
    else:
        from wxqr.web.app import create_serving_app

        uvicorn.run(create_serving_app(settings), **options)
