"""Helpers of the dashboard's browser tests: Debian's Chromium, axe-core injected, pages
shot at 1440×900 and 390×844 into test-output/ and checked for sideways scrolling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "src" / "wxqr" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "test-output"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
HEADERS = {"zh_CN": "zh-CN,zh;q=0.9", "en": "en-US,en;q=0.9"}

__all__ = ["ARGS", "CHROMIUM", "DESKTOP", "HEADERS", "OUTPUT", "PHONE", "check_page"]


def _axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))
            }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def check_page(page: Any, name: str, problems: list[str]) -> None:
    """Shoot ``page`` at both sizes into test-output/dashboard-NAME-SIZE.png, run axe at
    both, and note sideways scrolling of the page itself on the phone."""
    OUTPUT.mkdir(exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(100)
        page.screenshot(path=str(OUTPUT / f"dashboard-{name}-{label}.png"), full_page=True)
        for violation in _axe_violations(page):
            problems.append(f"{name} {label}: {violation}")
        if label == "phone":
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > size["width"]:
                problems.append(f"{name}: the page is {wide} px wide on a 390 px phone")
    page.set_viewport_size(DESKTOP)
