"""``python -m wxqr.cli.readiness URL [SECONDS]``: wait until ``URL`` (a wxqr ``/readyz``)
answers 200; exit 0 then, 1 after ``SECONDS`` (default 60).

The systemd unit runs it as ``ExecStartPost=``, so ``systemctl start``/``restart`` of an
instance returns only once it can store pushes, and a rolling restart
(``systemctl restart wxqr@8000 && systemctl restart wxqr@8001``) never has both
instances down. Standard library only: it must start fast and need nothing.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

__all__ = ["main", "ready"]


def ready(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - our URL
            return int(answer.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2 or not argv[0].startswith(("http://", "https://")):
        print("usage: python -m wxqr.cli.readiness URL [SECONDS]", file=sys.stderr)
        return 2
    try:
        limit = float(argv[1]) if len(argv) == 2 else 60.0
    except ValueError:
        print(f"error: SECONDS must be a number, got {argv[1]!r}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + limit
    while not ready(argv[0]):
        if time.monotonic() >= deadline:
            print(f"error: {argv[0]} was not ready within {limit:g} s", file=sys.stderr)
            return 1
        time.sleep(0.25)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
