"""``wxqr serve``: migrate the database, then run the web app (webhook, API, dashboard)."""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import resource
from typing import Any

import typer
import uvicorn

from wxqr.cli._signals import exit_cleanly_on_sigterm
from wxqr.cli._ws import load_settings, open_runtime
from wxqr.logs import configure_logging
from wxqr.service.secrets_rotation import check_stored_secrets
from wxqr.settings import Settings
from wxqr.web.http_guard import guarded_protocol, limits_from_settings

__all__ = ["raise_open_files_limit", "serve", "uvicorn_options"]

log = logging.getLogger(__name__)

# File descriptors kept for everything but client connections (database, writer
# process, logs, WeChat calls).
_RESERVED_FDS = 256


def _fast(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the soft limit now.

    Every connection is a file descriptor: a low soft limit (often 1024) is what lets a
    flood of idle connections make the server fail (issue 14)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise the open files limit from %d: %s", soft, exc)
        return soft
    return target


def uvicorn_options(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    log_level: str,
    open_files: int | None = None,
) -> dict[str, Any]:
    """uvicorn's options: ``--host``/``--port`` win over ``WXQR_HOST``/``WXQR_PORT``.

    ``http`` is uvicorn's fastest protocol with wxqr's header and body deadlines and its
    connection cap (:mod:`wxqr.web.http_guard`), the cap lowered to fit ``open_files``.
    uvicorn's ``limit_concurrency`` stays off on purpose: over its cap it answers 503 to
    every new request, pushes included; the guard closes the oldest slow connection
    instead, so a fresh push always gets in.
    """
    limits = limits_from_settings(settings)
    if open_files is not None and open_files - _RESERVED_FDS < limits.max_connections:
        cap = max(open_files - _RESERVED_FDS, 16)
        log.warning(
            "WXQR_HTTP_MAX_CONNECTIONS=%d is over what %d open files allow: %d",
            limits.max_connections,
            open_files,
            cap,
        )
        limits = dataclasses.replace(limits, max_connections=cap)
    return {
        "host": host or settings.host,
        "port": settings.port if port is None else port,
        "loop": _fast("uvloop", "asyncio"),
        "http": guarded_protocol(_fast("httptools", "h11"), limits),
        "log_level": log_level.lower(),
        "access_log": False,
        "timeout_graceful_shutdown": 10,
        "forwarded_allow_ips": list(settings.trusted_proxies),  # b-auth: WXQR_TRUSTED_PROXIES
        "timeout_keep_alive": settings.http_keepalive_seconds,
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
    configure_logging(settings.log_format, log_level)  # WXQR_LOG_FORMAT, timestamps
    open_files = raise_open_files_limit()
    options = uvicorn_options(
        settings, host=host, port=port, log_level=log_level, open_files=open_files
    )
    exit_cleanly_on_sigterm()  # a SIGTERM stop (systemd) exits 0 after the drain
    if workers > 1:
        # Migrate (and store the environment's account) once, here; every worker process
        # then opens its own serving runtime (create_app_from_env). Secrets no key opens
        # stop the command here with one line, not each worker with a traceback.
        with open_runtime(migrate=True) as runtime:
            check_stored_secrets(runtime.engine, runtime.secret_box)
        uvicorn.run("wxqr.web.app:create_app_from_env", factory=True, workers=workers, **options)
        return
    from wxqr.web.app import create_serving_app

    with open_runtime(migrate=True, serve=True) as runtime:
        uvicorn.run(create_serving_app(runtime), **options)
