"""Bad input on the dashboard is a friendly HTML page with a 4xx status, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.support.stack import Stack

PASSWORD = "correct horse battery"
BEYOND_INT64 = str(2**63)
BEYOND_INT32 = str(2**31)


@pytest.fixture
def logged_in(stack: Stack) -> httpx.Client:
    stack.ws.admin.set_password(PASSWORD)
    client = httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30)
    response = client.post("/dashboard/login", data={"password": PASSWORD, "next": "/dashboard/"})
    assert response.status_code == 303
    return client


def _assert_page(response: httpx.Response, statuses: tuple[int, ...]) -> None:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("/dashboard/?from=0001-01-01", (422,)),
        ("/dashboard/?from=0001-01-01&to=0001-01-01", (422,)),
        ("/dashboard/?to=9999-12-31", (422,)),
        ("/dashboard/?from=not-a-date", (422,)),
        ("/dashboard/?account=wx-nobody", (404,)),
        ("/dashboard/channels/new?account=wx-nobody", (404,)),
        (f"/dashboard/channels/{BEYOND_INT64}", (404, 422)),
        (f"/dashboard/channels/{BEYOND_INT32}", (404, 422)),
        ("/dashboard/channels/987654", (404,)),
        ("/dashboard/channels/abc", (404, 422)),
        (f"/dashboard/channels/{BEYOND_INT64}/code.png", (404, 422)),
        (f"/dashboard/channels/{BEYOND_INT32}/code.svg", (404, 422)),
        ("/dashboard/channels/1/code.gif", (404, 422)),
        ("/dashboard/export?account=wx-nobody", (404,)),
        ("/dashboard/export?channel_id=987654", (404,)),
        (f"/dashboard/export?channel_id={BEYOND_INT64}", (404, 422)),
        (f"/dashboard/export?channel_id={BEYOND_INT32}", (404, 422)),
        ("/dashboard/export?table=bogus", (422,)),
        ("/dashboard/export?from=0001-01-01", (422,)),
    ],
)
def test_bad_input_is_a_friendly_page(
    logged_in: httpx.Client, path: str, statuses: tuple[int, ...]
) -> None:
    _assert_page(logged_in.get(path), statuses)


@pytest.mark.parametrize("kind", ["bogus", "permanent\u00e9"])
def test_a_bogus_code_kind_is_shown_on_the_form(
    stack: Stack, logged_in: httpx.Client, kind: str
) -> None:
    form = logged_in.get("/dashboard/channels/new").text
    csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = logged_in.post(
        "/dashboard/channels", data={"csrf": csrf, "name": "Poster", "kind": kind}
    )
    _assert_page(response, (422,))
    assert stack.ws.channels.list_channels(stack.account.id) == []


def test_a_non_ascii_csrf_token_is_refused_not_a_500(stack: Stack, logged_in: httpx.Client) -> None:
    response = logged_in.post(
        "/dashboard/channels", data={"csrf": "tökén-ünïcode", "name": "Poster"}
    )
    assert response.status_code == 403
    assert stack.ws.channels.list_channels(stack.account.id) == []


def test_a_non_ascii_session_cookie_is_no_session(stack: Stack) -> None:
    stack.ws.admin.set_password(PASSWORD)
    with httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30) as client:
        good = client.post("/dashboard/login", data={"password": PASSWORD, "next": "/dashboard/"})
        token = good.cookies["wxqr_session"]
        payload, _, _signature = token.rpartition(".")
        forged = f"{payload}.\u00e9\u00e9\u00e9"
        client.cookies.clear()
        cookie = f"wxqr_session={forged}".encode()  # raw UTF-8 bytes on the wire
        response = client.get("/dashboard/", headers=[(b"Cookie", cookie)])
    assert response.status_code == 303  # to the login page: no session
    assert response.headers["location"].startswith("/dashboard/login")
