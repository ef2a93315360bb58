"""deploy/nginx/wxqr.conf for real: Debian's nginx with a self-signed certificate in front
of ``wxqr serve``; the emulator pushes to the HTTPS URL, the API and a dashboard login go
through it. Skipped (with the reason) where nginx is not installed; CI installs it."""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from tests.ops.nginx import nginx_binary, running_nginx
from tests.ops.serving import WXQR, free_port, serve_env, wxqr_serve
from tests.ops.tls import make_certificates
from tests.support import pushes as p
from wxqr.emulator.testing import EmulatorAccount, running_emulator
from wxqr.protocol import EncryptMode
from wxqr.store import tables as t

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


def _from(address: str, ca: Path) -> httpx.Client:
    """A client whose connections leave from ``address`` (another loopback address)."""
    return httpx.Client(
        verify=ssl.create_default_context(cafile=str(ca)),
        transport=httpx.HTTPTransport(
            local_address=address, verify=ssl.create_default_context(cafile=str(ca))
        ),
        follow_redirects=False,
        timeout=10,
    )


def _login(client: httpx.Client, base: str, password: str, **headers: str) -> httpx.Response:
    return client.post(
        f"{base}/dashboard/login",
        data={"password": password, "next": "/dashboard/"},
        headers=headers,
    )


def test_wxqr_behind_nginx_with_https(database_url: str, engine: Engine, tmp_path: Path) -> None:
    nginx_binary()
    ca, cert, key = make_certificates(tmp_path)
    upstream, https_port = free_port(), free_port()
    base = f"https://localhost:{https_port}"
    account = EmulatorAccount(
        appid=p.APPID,
        secret="nginx-secret",
        token=p.TOKEN,
        aes_key=p.AES_KEY,
        mode=EncryptMode.SAFE,
        original_id=p.ORIGINAL_ID,
        push_url=f"{base}/wechat/{p.APPID}",
    )
    env = serve_env(
        database_url,
        WXQR_TRUSTED_PROXIES="127.0.0.1",
        WXQR_LOGIN_MAX_FAILURES="2",
    )
    for command, given in (
        (["admin", "set-password", "--password-stdin"], PASSWORD + "\n"),
        (["apikey", "create", "--name", "nginx-test", "--format", "json"], None),
    ):
        done = subprocess.run(
            [*WXQR, *command], env=env, input=given, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    api_key = json.loads(done.stdout)["key"]

    log = tmp_path / "serve.log"
    with (
        wxqr_serve(env, upstream, "--log-level", "info", log=log),
        running_nginx(tmp_path, https_port=https_port, upstream=upstream, cert=cert, key=key),
        running_emulator(accounts=[account], push_ca_file=str(ca)) as emu,
    ):
        # WeChat's console check (echostr) and pushes, over HTTPS through the proxy.
        assert emu.verify_push_url(p.APPID) is True
        for n in range(5):
            result = emu.follow(f"o-nginx-{n}")
            assert result.error is None, result
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.events)).scalar_one() == 5

        client = _from("127.0.0.2", ca)
        other = _from("127.0.0.3", ca)
        # HTTP/2 is offered.
        context = ssl.create_default_context(cafile=str(ca))
        context.set_alpn_protocols(["h2", "http/1.1"])
        with (
            socket.create_connection(("127.0.0.1", https_port)) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.selected_alpn_protocol() == "h2"

        # The REST API, with nginx's request id passed through to wxqr and back.
        accounts = client.get(f"{base}/api/v1/accounts", headers={"X-API-Key": api_key})
        assert accounts.status_code == 200
        assert [a["appid"] for a in accounts.json()] == [p.APPID]
        assert re.fullmatch(r"[0-9a-f]{32}", accounts.headers["x-request-id"])
        assert client.get(f"{base}/api/v1/accounts").status_code == 401

        # The dashboard: the throttle counts each client's own address (nginx replaces a
        # forged X-Forwarded-For), and the session cookie is Secure behind HTTPS.
        assert _login(client, base, "wrong", **{"X-Forwarded-For": "10.9.9.9"}).status_code == 401
        assert _login(client, base, "wrong", **{"X-Forwarded-For": "10.9.9.8"}).status_code == 401
        throttled = _login(client, base, PASSWORD)
        assert throttled.status_code == 429
        assert "Retry-After" in throttled.headers
        welcome = _login(other, base, PASSWORD)
        assert welcome.status_code == 303
        cookie = welcome.headers["set-cookie"]
        assert "; secure" in cookie.lower()
        assert "httponly" in cookie.lower()

        # Static files are cached by the proxy.
        first = client.get(f"{base}/static/dashboard.css")
        second = client.get(f"{base}/static/dashboard.css")
        assert first.status_code == second.status_code == 200
        assert second.headers["x-cache-status"] == "HIT"
        assert "max-age" in second.headers["cache-control"]

        # Metrics are not published; oversized pushes stop at the proxy.
        assert client.get(f"{base}/metrics").status_code == 404
        big = client.post(
            f"{base}/wechat/{p.APPID}",
            params={"signature": "0" * 40, "timestamp": "1", "nonce": "n"},
            content=b"<xml>" + b"x" * 100_000 + b"</xml>",
        )
        assert big.status_code == 413
        assert "nginx" in big.text
        client.close()
        other.close()

    served = log.read_text()
    assert "failed dashboard login from 127.0.0.2" in served
    assert "10.9.9.9" not in served
    access = (tmp_path / "wxqr.access.log").read_text()
    assert access.count(f"/wechat/{p.APPID}") >= 6
