"""Numbers beyond the database's columns are refused before they reach it, on every backend.

PostgreSQL's ``integer`` is 32-bit: before the bounds, ``/api/v1/channels/2147483648`` was
a 500 ("integer out of range") there while SQLite answered 404. These run on both.
"""

from __future__ import annotations

import pytest

from tests.support.stack import Stack

BEYOND_INT32 = str(2**31)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/api/v1/channels/{BEYOND_INT32}", 422),
        (f"/api/v1/codes/{BEYOND_INT32}", 422),
        (f"/api/v1/events?channel_id={BEYOND_INT32}", 422),
        (f"/api/v1/stats/summary?channel={BEYOND_INT32}", 404),
        (f"/api/v1/stats/summary?channel={2**31 - 1}", 404),
    ],
)
def test_ids_beyond_32_bits_are_a_4xx_problem(stack: Stack, path: str, status: int) -> None:
    with stack.client() as client:
        response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
