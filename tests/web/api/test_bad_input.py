"""Bad input is a 4xx problem document that names what is wrong, never a 500."""

from __future__ import annotations

import pytest

from tests.support.stack import Stack

PROBLEM = "application/problem+json"
BEYOND_INT64 = str(2**63)
BEYOND_INT32 = str(2**31)


def _assert_problem(response: object, status: int) -> dict[str, object]:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert isinstance(body, dict)
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/channels?offset={BEYOND_INT64}",
        f"/api/v1/events?after_id={BEYOND_INT64}",
        f"/api/v1/events?since={BEYOND_INT64}",
        f"/api/v1/events?until=-{BEYOND_INT64}1",
        f"/api/v1/events?channel_id={BEYOND_INT32}",
        f"/api/v1/channels/{BEYOND_INT64}",
        f"/api/v1/channels/{BEYOND_INT32}",
        f"/api/v1/channels/{BEYOND_INT32}/codes",
        f"/api/v1/channels/{BEYOND_INT32}/image",
        f"/api/v1/codes/{BEYOND_INT32}",
        f"/api/v1/codes/{BEYOND_INT32}/image",
        f"/api/v1/codes/zip?channel_id={BEYOND_INT32}",
        "/api/v1/events?kind=bogus",
        "/api/v1/stats/top?by=bogus",
        "/api/v1/stats/summary?from=0001-01-01",
        "/api/v1/stats/series?from=0001-01-01&to=0001-01-02&granularity=hour",
        "/api/v1/stats/summary?from=9999-12-31&to=9999-12-31",
    ],
)
def test_numbers_and_dates_out_of_range_are_422(stack: Stack, path: str) -> None:
    with stack.client() as client:
        body = _assert_problem(client.get(path), 422)
    assert body["detail"]


@pytest.mark.parametrize("ref", [BEYOND_INT64, BEYOND_INT32, "99999999999999999999"])
def test_a_stats_channel_beyond_any_id_is_404(stack: Stack, ref: str) -> None:
    with stack.client() as client:
        _assert_problem(client.get(f"/api/v1/stats/summary?channel={ref}"), 404)


def test_a_json_body_that_is_not_utf8_is_400(stack: Stack) -> None:
    with stack.client() as client:
        response = client.post(
            "/api/v1/channels",
            content=b'{"name": "\xff\xfe"}',
            headers={"Content-Type": "application/json"},
        )
    body = _assert_problem(response, 400)
    assert body["detail"] == "the request body is not UTF-8 text"


def test_a_broken_multipart_form_is_a_4xx(stack: Stack) -> None:
    boundary = "0d37f771f3609e9baf6be26654101f5f"
    with stack.client() as client:
        response = client.post(
            "/api/v1/channels/bulk",
            content=f"--{boundary}\r\nTrue--{boundary}--\r\n".encode(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM


def test_an_image_size_below_the_symbol_is_422(stack: Stack) -> None:
    with stack.client() as client:
        channel = client.post("/api/v1/channels", json={"name": "Poster", "code": {}}).json()
        small = client.get(f"/api/v1/channels/{channel['id']}/image?size=21")
        zipped = client.get("/api/v1/codes/zip?size=21")
        fine = client.get(f"/api/v1/channels/{channel['id']}/image?size=400")
    assert _assert_problem(small, 422)["field"] == "size"
    assert "too small" in str(_assert_problem(zipped, 422)["detail"])
    assert fine.status_code == 200
    assert fine.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/accounts", "GET, HEAD"),
        ("OPTIONS", "/api/v1/channels", "GET, HEAD, POST"),
        ("POST", "/api/v1/channels/1/image", "GET, HEAD"),
        ("DELETE", "/api/v1/stats/summary", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_a_405_problem(
    stack: Stack, method: str, path: str, allowed: str
) -> None:
    with stack.client() as client:
        response = client.request(method, path)
    body = _assert_problem(response, 405)
    assert response.headers["allow"] == allowed
    assert body["title"] == "Method not allowed"


def test_an_unknown_path_is_still_a_404_problem(stack: Stack) -> None:
    with stack.client() as client:
        _assert_problem(client.put("/api/v1/nothing/here"), 404)
