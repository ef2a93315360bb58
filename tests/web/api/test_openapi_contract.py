"""The OpenAPI document says what the API answers: problem documents, typed bodies, ids."""

from __future__ import annotations

import re
from typing import Any

from tests.support.stack import Stack

PROBLEM = "application/problem+json"
ERROR_STATUSES = ("401", "403", "404", "409", "413", "422", "429", "502", "503")


def _document(stack: Stack) -> dict[str, Any]:
    with stack.client(key=None) as client:
        document: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_declares_its_errors_as_problem_documents(stack: Stack) -> None:
    document = _document(stack)
    operations = _operations(document)
    assert len(operations) >= 22
    for method, path, operation in operations:
        for status in ERROR_STATUSES:
            declared = operation["responses"].get(status)
            assert declared is not None, (method, path, status)
            assert list(declared["content"]) == [PROBLEM], (method, path, status)
            assert declared["content"][PROBLEM]["schema"] == {
                "$ref": "#/components/schemas/ProblemDetails"
            }
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"type", "title", "status", "detail"} <= set(schemas["ProblemDetails"]["required"])
    assert "ValidationIssue" in schemas


def test_operation_ids_are_readable_and_unique(stack: Stack) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(_document(stack))]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", operation_id), operation_id
    for expected in (
        "listChannels",
        "createChannel",
        "getChannel",
        "updateChannel",
        "archiveChannel",
        "importChannelsCsv",
        "listAccounts",
        "getCode",
        "listEvents",
        "statsSummary",
        "statsExport",
    ):
        assert expected in ids


def test_stats_answers_are_typed(stack: Stack) -> None:
    document = _document(stack)
    for name in ("summary", "channels", "groups", "series", "top", "orphans"):
        ok = document["paths"][f"/api/v1/stats/{name}"]["get"]["responses"]["200"]
        schema = ok["content"]["application/json"]["schema"]
        assert "$ref" in schema, name
        model = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        assert {"account", "from", "to", "timezone"} <= set(model["properties"]), name
    with stack.client() as client:
        summary = client.get("/api/v1/stats/summary").json()
    assert set(summary) == {
        "account",
        "from",
        "to",
        "timezone",
        "channel_ids",
        "group",
        "comparison",
        "attribution",
        "metrics",
        "conversion",
        "compare",
    }
    assert summary["comparison"] is None
    assert summary["compare"] is None
    assert summary["metrics"]["scans"] == 0
