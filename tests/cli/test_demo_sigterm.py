"""``wxqr demo`` stopped by SIGTERM (a service manager, ``kill``) cleans up after itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_sigterm_stops_the_demo_and_removes_its_folder(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from wxqr.cli.main import main; main()"]
    args = ["demo", "--scans", "10", "--days", "1", "--port", "0", "--password", "pw-123456"]
    process = subprocess.Popen(
        [*command, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "Serving." in line:
                break
        assert any("Serving." in line for line in seen), "".join(seen)
        folders = list(tmp_path.glob("wxqr-demo-*"))
        assert len(folders) == 1  # the demo's database lives there while it runs
        assert (folders[0] / "wxqr-demo.sqlite3").exists()
        assert any(str(folders[0]) in line for line in seen)  # printed as "Database:"
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, rest
    assert "Traceback" not in rest
    assert list(tmp_path.glob("wxqr-demo-*")) == []
