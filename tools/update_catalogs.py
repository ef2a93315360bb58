"""Re-extract the dashboard's strings and merge them into every catalog (run by hand).

    .venv/bin/python tools/update_catalogs.py

Writes ``src/wxqr/locale/messages.pot`` and updates ``src/wxqr/locale/*/LC_MESSAGES/
messages.po`` (new strings come in untranslated; the catalogs-vs-templates test then names
them). Compiling to ``.mo`` is the build's job (hatch_build.py), never committed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "wxqr" / "locale"


def main() -> None:
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    pot = LOCALE / "messages.pot"
    common = ["--no-location", "--sort-output", "--omit-header", "--no-wrap"]
    subprocess.run(  # noqa: S603 - fixed arguments
        [*pybabel, "extract", "-F", "babel.cfg", "-k", "N_", *common, "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )
    subprocess.run(  # noqa: S603 - fixed arguments
        [*pybabel, "update", "-i", str(pot), "-d", str(LOCALE), "--no-wrap", "--no-fuzzy-matching"],
        cwd=ROOT,
        check=True,
    )


if __name__ == "__main__":
    main()
