"""Hatch build hook: put the dashboard's front-end assets into ``src/wxqr/web/static/vendor/``.

The assets (Chart.js, Swagger UI, and axe-core for the browser tests) come from the npm
registry, pinned by ``frontend/package-lock.json``; they are never committed and never
fetched at run time.
When a vendor file is missing, the hook runs ``npm ci`` in ``frontend/`` (install scripts
off) and copies the files over. It runs for wheels, editable installs included, so both
``pip install .`` and ``pip install -e .`` end with the files in place.

Set ``WXQR_SKIP_FRONTEND=1`` to build without them (the dashboard then has no chart).

It also compiles the gettext catalogs (``src/wxqr/locale/*/LC_MESSAGES/messages.po``) into
``.mo`` files with Babel, every build (they are small), and ships them: ``.mo`` files are
never committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

FRONTEND = "frontend"
VENDOR = "src/wxqr/web/static/vendor"
LOCALE = "src/wxqr/locale"

# (file inside frontend/node_modules, file inside the vendor folder)
ASSETS: tuple[tuple[str, str], ...] = (
    ("chart.js/dist/chart.umd.min.js", "chart.umd.min.js"),
    ("chart.js/LICENSE.md", "licenses/chart.js.LICENSE.md"),
    ("@kurkle/color/LICENSE.md", "licenses/kurkle-color.LICENSE.md"),
    ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
    ("swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"),
    ("swagger-ui-dist/favicon-32x32.png", "swagger-ui/favicon-32x32.png"),
    ("swagger-ui-dist/LICENSE", "licenses/swagger-ui.LICENSE"),
    # axe-core: the accessibility checker the browser tests inject (no page loads it).
    ("axe-core/axe.min.js", "axe-core/axe.min.js"),
    ("axe-core/LICENSE", "licenses/axe-core.LICENSE"),
)


class FrontendAssetsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        self._compile_catalogs(root / LOCALE, build_data)
        vendor = root / VENDOR
        if os.environ.get("WXQR_SKIP_FRONTEND") == "1":
            self.app.display_warning("WXQR_SKIP_FRONTEND=1: building without dashboard assets")
            return
        missing = [dest for _, dest in ASSETS if not (vendor / dest).is_file()]
        if missing:
            self._install(root / FRONTEND)
            modules = root / FRONTEND / "node_modules"
            for source, dest in ASSETS:
                target = vendor / dest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(modules / source, target)
            self.app.display_info(f"copied {len(ASSETS)} front-end files into {VENDOR}")
        # The vendor folder is git-ignored; ship it in the wheel all the same.
        build_data.setdefault("artifacts", []).append(f"/{VENDOR}/**")

    def _compile_catalogs(self, locale_dir: Path, build_data: dict[str, Any]) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        count = 0
        for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as out:
                write_mo(out, catalog, use_fuzzy=False)
            count += 1
        self.app.display_info(f"compiled {count} gettext catalogs in {LOCALE}")
        # The .mo files are git-ignored; ship them in the wheel all the same.
        build_data.setdefault("artifacts", []).append(f"/{LOCALE}/**/*.mo")

    def _install(self, frontend: Path) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "building wxqr needs npm (Node.js) to fetch the dashboard's Chart.js from "
                "the npm registry: install Node.js/npm (Debian: apt-get install -y npm), "
                "or set WXQR_SKIP_FRONTEND=1 to build without the dashboard chart"
            )
        self.app.display_info("running npm ci in frontend/ for the dashboard assets")
        subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=frontend,
            check=True,
        )
