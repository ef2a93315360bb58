"""Server time of every dashboard page on bench/stats.py's data set (issue 18, "Fast").

    python bench/stats.py --events 10000000 --sqlite PATH --keep --pg-database NAME  # once
    python bench/pages.py --sqlite PATH [--postgres URL] [--repeat 5] [--json]

Builds the real app (:func:`wxqr.web.app.create_app`, worker off) over a database that
``bench/stats.py`` loaded (account ``wxbench``, 1,000 channels, events up to 2024-12-31,
rollups built), logs in as the admin and times each page's full request through the
in-process ASGI client (Starlette's TestClient: routing, session, service calls,
template rendering; no network). Median (min–max) of ``--repeat`` runs after one warm-up,
and the process's CPU time per request (this process runs the app and SQLite: on a shared,
loaded machine it is the steadier figure; PostgreSQL's own work is not in it).
The stats pages are asked for the bench's 90-day window (2024-10-03 – 2024-12-31).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import add_output_flag, emit, repeat, spread
from wxqr.runtime import Runtime
from wxqr.settings import Settings
from wxqr.web.app import create_app

PASSWORD = "bench password 0123"
WINDOW = "from=2024-10-03&to=2024-12-31"
PAGES = [
    ("overview (90 days, compare)", f"/dashboard/?range=custom&{WINDOW}"),
    ("channels list (1,000 channels)", f"/dashboard/channels?{WINDOW}"),
    ("channel page (busiest)", f"/dashboard/channels/1?{WINDOW}"),
    ("channel edit (busiest)", "/dashboard/channels/1/edit"),
    ("settings", "/dashboard/settings"),
    ("scans feed", "/dashboard/scans"),
]


def measure(name: str, url: str, runs: int) -> list[dict[str, object]]:
    runtime = Runtime.open(
        Settings(database_url=url, worker_enabled=False),  # type: ignore[call-arg]
        serve=True,
        sync_env_account=False,
    )
    rows: list[dict[str, object]] = []
    try:
        runtime.workspace.admin.set_password(PASSWORD)
        with TestClient(create_app(runtime)) as client:
            done = client.post("/dashboard/login", data={"password": PASSWORD})
            assert done.status_code < 400, done.status_code

            for label, path in PAGES:

                def get(path: str = path) -> None:
                    response = client.get(path)
                    if response.status_code != 200:
                        raise SystemExit(f"{path}: HTTP {response.status_code}")

                get()  # warm-up
                cpu_before = time.process_time()
                figures = spread([s * 1000 for s in repeat(get, runs)])
                cpu = (time.process_time() - cpu_before) * 1000 / runs
                rows.append(
                    {
                        "database": name,
                        "page": label,
                        "ms": figures.format(".1f"),
                        "cpu ms": f"{cpu:.1f}",
                    }
                )
                print(
                    f"  {name:10} {label:32} {figures.format('.1f')} ms, cpu {cpu:.1f}", flush=True
                )
    finally:
        runtime.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", default="", help="a SQLite file bench/stats.py loaded")
    parser.add_argument("--postgres", default="", help="URL of a database bench/stats.py kept")
    parser.add_argument("--repeat", type=int, default=5)
    add_output_flag(parser)
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    if args.sqlite:
        rows += measure("SQLite", f"sqlite:///{args.sqlite}", args.repeat)
    if args.postgres:
        rows += measure("PostgreSQL", args.postgres, args.repeat)
    if not rows:
        parser.error("give --sqlite and/or --postgres")
    emit(rows, args)


if __name__ == "__main__":
    os.environ.setdefault("WXQR_LOG_FORMAT", "text")
    main()
