"""Errors of the stats service: part of the service layer's one tree (:mod:`..errors`).

Each one a clear message about the caller's input: a bad window, zone, granularity or
metric is invalid input (422); an unknown channel or account is not found (404). The
unknown account is the same class as :class:`wxqr.service.accounts.UnknownAccount`.
"""

from __future__ import annotations

from wxqr.service.accounts import UnknownAccount
from wxqr.service.errors import InvalidInputError, NotFoundError

__all__ = ["InvalidWindow", "StatsError", "UnknownAccount", "UnknownChannel"]


class StatsError(InvalidInputError, ValueError):
    """Bad input to a stats query (the message says what and why)."""

    title = "Invalid stats query"


class InvalidWindow(StatsError):
    """A window, time zone, granularity or metric name that cannot be used."""


class UnknownChannel(StatsError, NotFoundError, LookupError):
    """No such channel (or group) in the account."""

    title = "Not found"
    field = "channel"
