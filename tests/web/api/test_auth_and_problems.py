"""Every data endpoint refuses a missing, wrong or revoked API key with a 401 problem."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.stack import Stack
from wxqr.web.api._guard import PUBLIC_PATH_PATTERNS

PROBLEM = "application/problem+json"


def _data_endpoints(stack: Stack) -> list[tuple[str, str]]:
    with stack.client() as client:
        spec = client.get("/api/v1/openapi.json").json()
    found = []
    for path, operations in spec["paths"].items():
        for method in operations:
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            if any(public.match(concrete) for public in PUBLIC_PATH_PATTERNS):
                continue  # the browser's poll URLs take a poll token instead (scan sessions)
            found.append((method.upper(), concrete))
    return found


def test_the_openapi_document_lists_the_api_and_its_key(stack: Stack) -> None:
    with stack.client(key=None) as client:
        response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = set(spec["paths"])
    for expected in (
        "/api/v1/accounts",
        "/api/v1/channels",
        "/api/v1/channels/bulk",
        "/api/v1/channels/{channel_id}",
        "/api/v1/channels/{channel_id}/codes",
        "/api/v1/codes/zip",
        "/api/v1/codes/{code_id}/image",
        "/api/v1/stats/summary",
        "/api/v1/stats/series",
        "/api/v1/stats/export",
        "/api/v1/events",
    ):
        assert expected in paths
    assert not any(p.startswith(("/wechat", "/dashboard")) for p in paths)
    schemes = spec["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "X-API-Key"}.items() <= next(
        s for s in schemes.values() if s["type"] == "apiKey"
    ).items()


def test_every_data_endpoint_needs_a_valid_key(stack: Stack) -> None:
    endpoints = _data_endpoints(stack)
    assert len(endpoints) >= 15
    revoked = stack.ws.api_keys.create("old")
    stack.ws.api_keys.revoke("old")
    for key in (None, "wxqr_wrong_key", "not-even-a-key", revoked.secret):
        with stack.client(key=key) as client:
            for method, path in endpoints:
                response = client.request(method, path)
                assert response.status_code == 401, (key, method, path)
                assert response.headers["content-type"] == PROBLEM
                body = response.json()
                assert body["status"] == 401
                assert body["title"] == "Unauthorized"
                assert body["type"].endswith("#problem-unauthorized")
                assert body["instance"] == path
                assert "Bearer" in response.headers["www-authenticate"]


def test_a_bearer_token_works_too(stack: Stack) -> None:
    with stack.client(key=None) as client:
        ok = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {stack.api_key}"})
        bad = client.get("/api/v1/accounts", headers={"Authorization": "Bearer nope"})
    assert ok.status_code == 200
    assert ok.json()[0]["appid"] == stack.account.appid
    assert bad.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "slug"),
    [
        ("GET", "/api/v1/channels/999", None, 404, "not-found"),
        ("GET", "/api/v1/nothing/here", None, 404, "not-found"),
        ("POST", "/api/v1/channels", {"nme": "typo"}, 422, "invalid-input"),
        ("GET", "/api/v1/channels?limit=0", None, 422, "invalid-input"),
        ("GET", "/api/v1/accounts/wxnope", None, 404, "not-found"),
        ("GET", "/api/v1/stats/summary?from=2024-02-01&to=2024-01-01", None, 422, "invalid-input"),
        ("GET", "/api/v1/stats/top?by=clicks", None, 422, "invalid-input"),
    ],
)
def test_errors_are_problem_documents(
    stack: Stack, method: str, path: str, body: object, status: int, slug: str
) -> None:
    with stack.client() as client:
        response = client.request(method, path, json=body)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].endswith("#problem-" + slug)
    assert problem["title"]
    assert problem["detail"]
    assert problem["instance"] == path.split("?")[0]


def test_validation_problems_list_the_fields(stack: Stack) -> None:
    with stack.client() as client:
        problem = client.post("/api/v1/channels", json={"nme": "typo"}).json()
    locations = {tuple(e["location"]) for e in problem["errors"]}
    assert ("body", "name") in locations
    assert ("body", "nme") in locations


def test_the_docs_page_is_self_hosted(stack: Stack) -> None:
    with stack.client(key=None) as client:
        page = client.get("/api/v1/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources
        assert all(s.startswith("/") for s in sources), sources
        assert "/api/v1/openapi.json" in page.text
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 500  # the favicon is the smallest


def test_an_unknown_account_is_404_on_every_route(stack: Stack) -> None:
    """One error tree: an unknown account is NotFound everywhere, whichever service
    looked it up (channels, codes, stats, events), never 422 on some routes."""
    with stack.client() as client:
        spec = client.get("/api/v1/openapi.json").json()
        asked = []
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                names = {p["name"] for p in operation.get("parameters", [])}
                if "account" not in names or "{" in path:
                    continue
                response = client.request(method, path, params={"account": "wxnope"})
                asked.append((method, path))
                assert response.status_code == 404, (method, path, response.text)
                assert response.headers["content-type"].startswith(PROBLEM)
                assert response.json()["field"] == "account"
                assert "wxnope" in response.json()["detail"]
        assert len(asked) >= 8  # channels, bulk, zip, events and every stats route
        created = client.post("/api/v1/channels", json={"name": "x", "account": "wxnope"})
        assert created.status_code == 404
        assert client.get("/api/v1/accounts/wxnope").status_code == 404
    with httpx.Client(base_url=stack.base_url) as browser:
        stack.ws.admin.set_password("correct horse battery")
        browser.post("/dashboard/login", data={"password": "correct horse battery"})
        page = browser.get("/dashboard/", params={"account": "wxnope"})
        assert page.status_code == 404
        assert "no account with appid" in page.text
