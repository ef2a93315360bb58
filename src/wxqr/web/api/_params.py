"""Bounds of the API's integer parameters: the ranges the database can hold.

A number beyond them would reach the database and fail there (PostgreSQL's ``integer out
of range``, SQLite's ``OverflowError`` past 64 bits) as a 500; bounded here, it is a 422
that names the parameter. Row ids of channels and codes are 32-bit ``INTEGER`` columns,
event ids and times 64-bit ``BIGINT`` ones.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

__all__ = ["INT32_MAX", "INT64_MAX", "INT64_MIN", "ChannelIdPath", "CodeIdPath", "RowId"]

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

#: A 32-bit row id in a query (``channel_id=``).
RowId = Annotated[int, Query(ge=1, le=INT32_MAX)]

ChannelIdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The channel's id.")]
CodeIdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The code's id.")]
