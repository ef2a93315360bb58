"""Kept for imports written before :mod:`wxqr.service.errors`: the same classes."""

from __future__ import annotations

from wxqr.service.errors import (
    ConflictError,
    InvalidInputError,
    LimitReachedError,
    NotFoundError,
    ServiceError,
    UnavailableError,
    UpstreamError,
)

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "LimitReachedError",
    "NotFoundError",
    "ServiceError",
    "UnavailableError",
    "UpstreamError",
]
