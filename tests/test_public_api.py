from __future__ import annotations

import inspect
import subprocess
import sys

import wxqr
import wxqr.protocol


def _public_names(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }


def test_all_is_sorted_and_exactly_the_public_names() -> None:
    assert wxqr.__all__ == sorted(wxqr.__all__)
    assert set(wxqr.__all__) == _public_names(wxqr) | {"__version__"}
    for name in wxqr.__all__:
        assert hasattr(wxqr, name), name


def test_protocol_all_lists_exactly_its_public_names() -> None:
    assert set(wxqr.protocol.__all__) == _public_names(wxqr.protocol)
    assert len(wxqr.protocol.__all__) == len(set(wxqr.protocol.__all__))


def test_version_is_a_string() -> None:
    assert isinstance(wxqr.__version__, str)
    assert wxqr.__version__.count(".") >= 2


def test_protocol_core_is_pure() -> None:
    """Importing the protocol core pulls in no network, database, web or CLI library."""
    code = (
        "import sys, wxqr.protocol\n"
        "bad = [m for m in ('httpx', 'sqlalchemy', 'fastapi', 'starlette', 'typer', 'uvicorn',"
        " 'redis', 'psycopg', 'requests') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
