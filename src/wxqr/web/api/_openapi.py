"""The API's OpenAPI document, made true to what the API answers.

FastAPI declares a 422 ``HTTPValidationError`` (``application/json``) for every operation
with parameters, while wxqr answers every error with an ``application/problem+json``
:class:`~wxqr.web.api._problems.ProblemDetails`. The API's router declares the problem
responses itself (:data:`~wxqr.web.api._problems.PROBLEM_RESPONSES`), which keeps FastAPI's
422 out; :func:`install` adds the ``ProblemDetails`` schema they refer to. Operation ids are
the endpoint functions' names in camelCase (``listChannels``), stable across releases.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from wxqr.web.api._problems import ProblemDetails

__all__ = ["install", "operation_id"]


def operation_id(route: APIRoute) -> str:
    """``list_channels`` → ``listChannels``: the endpoint's name, camelCased."""
    first, *rest = route.name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _problem_schemas() -> dict[str, Any]:
    _, found = models_json_schema(
        [(ProblemDetails, "serialization")], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = found.get("$defs", {})
    return schemas


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the problem document's schemas to its components."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = original()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(_problem_schemas())
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
