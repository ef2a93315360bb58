"""What every benchmark script shares: timing several runs, medians and ranges, output.

A benchmark measures the same thing ``runs`` times and reports the median with the range
(min–max), never one run: the machines these run on are shared and noisy. Results are a
list of rows (dicts) printed as an aligned table, or as JSON with ``--json`` for tooling.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Spread", "add_output_flag", "emit", "repeat", "spread", "table"]


@dataclass(frozen=True)
class Spread:
    """The median and range of several measurements of one thing."""

    median: float
    low: float
    high: float

    def format(self, fmt: str = ".2f") -> str:
        if self.low == self.high:
            return format(self.median, fmt)
        return f"{self.median:{fmt}} ({self.low:{fmt}}–{self.high:{fmt}})"


def spread(values: Sequence[float]) -> Spread:
    if not values:
        raise ValueError("no measurements")
    return Spread(statistics.median(values), min(values), max(values))


def repeat(call: Callable[[], object], runs: int, *, number: int = 1) -> list[float]:
    """Seconds per call of ``call``, one figure per run of ``number`` calls."""
    figures = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(number):
            call()
        figures.append((time.perf_counter() - start) / number)
    return figures


def table(rows: Sequence[dict[str, Any]], *, out: Any = None) -> None:
    """Print ``rows`` as an aligned text table (columns in the first row's order)."""
    out = out or sys.stdout
    if not rows:
        print("(no rows)", file=out)
        return
    columns = list(rows[0])
    cells = [[str(row.get(col, "")) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    print("  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)), file=out)


def add_output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")


def emit(rows: Sequence[dict[str, Any]], args: argparse.Namespace) -> None:
    """The rows as a table, or as JSON when ``--json`` was given."""
    if getattr(args, "json", False):
        print(json.dumps(list(rows), ensure_ascii=False, indent=2))
    else:
        table(rows)
