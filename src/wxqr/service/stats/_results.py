"""Answers with a comparison beside them, and the per-channel (per-group) series of a split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from ._compare import Change
from ._model import ChannelRef, SeriesPoint

__all__ = ["Compared", "SplitSeries"]

_Value = TypeVar("_Value")


@dataclass(frozen=True, slots=True)
class Compared(Generic[_Value]):
    """A row, summary or series point (``value``) and its change from the base window
    (``change`` None when the query has no comparison or the point no counterpart)."""

    value: _Value
    change: Change | None


@dataclass(frozen=True, slots=True)
class SplitSeries:
    """One line of a split series: a channel's (``channel`` set) or a group's
    (``channel`` None; ``group`` None is the channels without a group)."""

    channel: ChannelRef | None
    group: str | None
    points: list[Compared[SeriesPoint]]
