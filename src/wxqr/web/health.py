"""``/healthz`` (the process is alive) and ``/readyz`` (it can do its job).

``/healthz`` answers 200 as long as the event loop runs: what a service manager or load
balancer uses to restart a hung process. ``/readyz`` checks what a push needs: the
database answers a query, Redis answers PING (when ``WXQR_REDIS_URL`` is set) and the
ingest writer is running; 200 ``{"status": "ready", "checks": {...}}`` or 503 with the
failing check's reason, so a load balancer only sends pushes to an instance that can
store them. Reasons never hold secrets (URLs are not quoted).
"""

from __future__ import annotations

import anyio
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from wxqr._version import __version__
from wxqr.runtime import Runtime

__all__ = ["healthz", "readiness", "readyz"]

_REDIS_TIMEOUT = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


def _database(runtime: Runtime) -> str:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        return f"failed: {type(exc).__name__}"
    return "ok"


def _redis(url: str) -> str:
    try:
        import redis
    except ImportError:
        return "failed: the redis package is not installed (pip install 'wxqr[redis]')"
    client = redis.Redis.from_url(
        url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT
    )
    try:
        client.ping()
    except Exception as exc:  # any client error means "not ready"
        return f"failed: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"


def _writer(runtime: Runtime) -> str:
    if runtime.ingest is None:
        return "failed: not a serving process"
    return "ok" if runtime.ingest.writer.running else "failed: the ingest writer is not running"


def readiness(runtime: Runtime) -> dict[str, str]:
    """Each check's result, ``"ok"`` or ``"failed: why"`` (blocking)."""
    checks = {"database": _database(runtime)}
    if runtime.settings.redis_url:
        checks["redis"] = _redis(runtime.settings.redis_url)
    checks["writer"] = _writer(runtime)
    return checks


async def readyz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    checks = await anyio.to_thread.run_sync(readiness, runtime)
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
