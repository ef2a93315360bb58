"""The layering of ADR 0001 and ADR 0004, read from the source: who may import whom.

A static check (the imports written in each module), so it also covers modules no test
imports: the adapters (``web/``, ``cli/``) reach the store only through the runtime and the
service layer; the WeChat client knows no storage; the service layer knows no adapter and
never the emulator; the protocol core imports nothing of wxqr.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "wxqr"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((SRC / folder).rglob("*.py"))


FORBIDDEN = [
    ("web", ("wxqr.store",), "adapters reach the store through the runtime and services"),
    ("cli", ("wxqr.store",), "adapters reach the store through the runtime and services"),
    ("wechat", ("wxqr.store", "wxqr.service", "wxqr.settings"), "the client knows no storage"),
    ("protocol", ("wxqr.",), "the protocol core imports nothing of wxqr"),
    (
        "service",
        ("wxqr.web", "wxqr.cli", "wxqr.emulator", "wxqr.runtime"),
        "services know no adapter",
    ),
    ("store", ("wxqr.service", "wxqr.web", "wxqr.cli"), "tables know no use case"),
]


@pytest.mark.parametrize(("folder", "prefixes", "why"), FORBIDDEN)
def test_no_forbidden_import(folder: str, prefixes: tuple[str, ...], why: str) -> None:
    modules = _modules(folder)
    assert modules, folder
    offending = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in modules
        for name in sorted(_imports(path))
        if name.startswith(prefixes) and not name.startswith(f"wxqr.{folder}")
    ]
    assert offending == [], why


def test_settings_reads_no_store() -> None:
    assert not any(n.startswith("wxqr.store") for n in _imports(SRC / "settings.py"))
