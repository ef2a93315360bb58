"""Errors of the stats service: each one a clear message about the caller's input."""

from __future__ import annotations

__all__ = ["InvalidWindow", "StatsError", "UnknownAccount", "UnknownChannel"]


class StatsError(ValueError):
    """Bad input to a stats query (the message says what and why)."""


class InvalidWindow(StatsError):
    """A window, time zone, granularity or metric name that cannot be used."""


class UnknownAccount(StatsError, LookupError):
    """No such account."""


class UnknownChannel(StatsError, LookupError):
    """No such channel (or group) in the account."""
