"""scan-sessions: the demo's login page — ``examples/scan_login`` of a source checkout,
served next to the demo against its emulator (absent from an installed wheel)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wxqr.emulator.testing import serve_app

__all__ = ["EXAMPLE", "login_example"]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "scan_login" / "app.py"


@contextmanager
def login_example(wxqr_url: str, api_key: str, host: str) -> Iterator[str | None]:
    """The URL of the example login page while it is served; None without the example."""
    if not EXAMPLE.is_file():
        yield None
        return
    spec = importlib.util.spec_from_file_location("wxqr_demo_scan_login", EXAMPLE)
    if spec is None or spec.loader is None:  # pragma: no cover - a file that is not Python
        yield None
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with serve_app(module.create_app(wxqr_url, api_key), host=host) as url:
        yield url + "/"
