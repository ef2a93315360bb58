"""Scan to log in: a small web app that uses wxqr only through its REST API.

It is what a customer would write. The backend holds the API key and creates a scan
session per visit; the page shows the code and follows the session's public SSE URL
(no key, no openid); once the status is ``scanned`` it asks its own backend who signed
in, and the backend asks wxqr with its key. Run it against ``wxqr demo`` or a real wxqr::

    python -m examples.scan_login.app --wxqr http://127.0.0.1:8000 --api-key wxqr_… --port 8080

Step by step: docs/scan-sessions.md.
"""

from __future__ import annotations

import argparse
import html
import json
import os

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

__all__ = ["create_app", "main"]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in with WeChat</title>
<style>body{{font-family:sans-serif;text-align:center;margin-top:3em}}
img{{width:240px;height:240px}}</style></head>
<body>
<h1>Sign in with WeChat</h1>
<img id="code" alt="QR code" src="{image_url}">
<p id="state" data-session="{session_id}">Scan the code with WeChat</p>
<script>
const state = document.getElementById("state");
const events = new EventSource({events_url});
events.addEventListener("status", async (message) => {{
  const session = JSON.parse(message.data);
  if (session.status === "scanned") {{
    events.close();
    const me = await (await fetch("/whoami?session={session_id}")).json();
    state.textContent = "signed in as " + me.openid;
    state.className = "signed-in";
  }} else if (session.status === "expired" || session.status === "cancelled") {{
    events.close();
    state.textContent = "The code has expired: reload the page for a new one";
  }}
}});
</script>
</body></html>
"""


def create_app(wxqr_url: str, api_key: str) -> Starlette:
    """The example app, talking to the wxqr at ``wxqr_url`` with ``api_key``."""
    client = httpx.AsyncClient(base_url=wxqr_url, headers={"X-API-Key": api_key}, timeout=40)

    async def login_page(request: Request) -> HTMLResponse:
        created = await client.post(
            "/api/v1/scan-sessions",
            json={"purpose": "login", "reply": {"type": "text", "content": "登录成功"}},
        )
        if created.status_code != 201:
            return HTMLResponse(f"<p>wxqr said {created.status_code}</p>", status_code=503)
        session = created.json()
        page = PAGE.format(
            image_url=html.escape(session["image_url"]),
            session_id=int(session["id"]),
            events_url=json.dumps(session["events_url"]),
        )
        return HTMLResponse(page)

    async def whoami(request: Request) -> JSONResponse:
        # The backend asks wxqr, with its key, who scanned (the browser never learns it
        # from wxqr). A real app would now set its own session cookie.
        session_id = int(request.query_params.get("session", "0"))
        found = await client.get(f"/api/v1/scan-sessions/{session_id}")
        if found.status_code != 200 or found.json()["status"] != "scanned":
            return JSONResponse({"openid": None}, status_code=409)
        return JSONResponse({"openid": found.json()["openid"]})

    return Starlette(routes=[Route("/", login_page), Route("/whoami", whoami)])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wxqr", default=os.environ.get("WXQR_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--api-key", default=os.environ.get("WXQR_API_KEY", ""))
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    uvicorn.run(create_app(args.wxqr, args.api_key), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
