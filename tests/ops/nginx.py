"""Debian's nginx running ``deploy/nginx/wxqr.conf`` in front of a test's ``wxqr serve``.

The shipped file is used as it is, with only what differs on a test machine replaced:
ports, the certificate paths, the cache and log folders (see :func:`site_config`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "deploy" / "nginx" / "wxqr.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        pytest.skip("nginx is not installed (CI installs Debian's: apt-get install nginx)")
    return found


def site_config(
    folder: Path, *, http_port: int, https_port: int, upstream: int, cert: Path, key: Path
) -> str:
    """deploy/nginx/wxqr.conf with this machine's ports, certificate and folders."""
    text = SITE.read_text()
    replacements = {
        "listen 80;": f"listen {http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen {https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "server 127.0.0.1:8000": f"server 127.0.0.1:{upstream}",
        "server 127.0.0.1:8001": f"server 127.0.0.1:{upstream}",
        "/etc/letsencrypt/live/wx.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/wx.example.com/privkey.pem": str(key),
        "/var/cache/nginx/wxqr": str(folder / "cache"),
        "/var/log/nginx/": f"{folder}/",
    }
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in {SITE}"
        text = text.replace(old, new)
    return text


@contextmanager
def running_nginx(
    folder: Path, *, https_port: int, upstream: int, cert: Path, key: Path
) -> Iterator[Path]:
    """Start nginx with the site; yields its folder (logs: access.log, error.log)."""
    binary = nginx_binary()
    http_port = https_port + 1 if https_port < 65000 else https_port - 1
    (folder / "wxqr.conf").write_text(
        site_config(
            folder,
            http_port=http_port,
            https_port=https_port,
            upstream=upstream,
            cert=cert,
            key=key,
        )
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
{temp}
    include {folder}/wxqr.conf;
}}
"""
    )
    conf = str(folder / "nginx.conf")
    checked = subprocess.run(
        [binary, "-t", "-p", str(folder), "-c", conf], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", conf, "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield folder
    finally:
        process.terminate()
        process.wait(10)
