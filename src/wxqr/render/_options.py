"""How a QR code is drawn: one frozen value shared by PNG and SVG output."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["MAX_LOGO_RATIO", "ErrorLevel", "RenderOptions"]

#: The logo may cover at most this fraction of the symbol's width (9 % of its area),
#: well inside the 30 % that error level H restores.
MAX_LOGO_RATIO = 0.3


class ErrorLevel(StrEnum):
    """QR error correction: about 7 %, 15 %, 25 % and 30 % of the symbol restorable."""

    L = "L"
    M = "M"
    Q = "Q"
    H = "H"


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Drawing options.

    ``scale``: pixels per module; ``size``: instead of ``scale``, the exact width and height
    in pixels (the largest whole scale that fits, centred on ``light``; SVG scales exactly).
    ``border``: quiet zone in modules (4 is the standard). ``error``: the minimum error
    level (segno raises it for free when the version allows); a ``logo`` forces ``H``.
    ``dark``/``light``: any colour segno accepts (``#rrggbb``, names); ``light=None`` means
    transparent. ``logo``: image bytes (any format Pillow reads) centred on the symbol,
    ``logo_ratio`` of its width.
    """

    scale: int = 10
    border: int = 4
    error: ErrorLevel = ErrorLevel.M
    dark: str = "#000000"
    light: str | None = "#ffffff"
    logo: bytes | None = field(default=None, repr=False)
    logo_ratio: float = 0.2
    size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "error", ErrorLevel(str(self.error).upper()))
        if isinstance(self.scale, bool) or not isinstance(self.scale, int) or self.scale < 1:
            raise ValueError(f"scale must be a positive integer, got {self.scale!r}")
        if isinstance(self.border, bool) or not isinstance(self.border, int) or self.border < 0:
            raise ValueError(f"border must be a non-negative integer, got {self.border!r}")
        if self.size is not None and (isinstance(self.size, bool) or self.size < 1):
            raise ValueError(f"size must be a positive integer, got {self.size!r}")
        if not 0 < self.logo_ratio <= MAX_LOGO_RATIO:
            raise ValueError(f"logo_ratio must be in (0, {MAX_LOGO_RATIO}]")
        if self.logo is not None and not self.logo:
            raise ValueError("logo must not be empty")

    @property
    def effective_error(self) -> ErrorLevel:
        """The error level actually requested: ``H`` whenever there is a logo."""
        return ErrorLevel.H if self.logo is not None else self.error

    def cache_key(self, kind: str) -> str:
        """A short stable key of these options for ``kind`` ("png"/"svg"), e.g. to cache
        rendered images (the logo is represented by a digest)."""
        logo = hashlib.sha256(self.logo).hexdigest()[:16] if self.logo is not None else "-"
        return (
            f"{kind}:s{self.scale}:z{self.size or '-'}:b{self.border}:e{self.effective_error}"
            f":d{self.dark}:l{self.light or 'none'}:g{logo}:r{self.logo_ratio:g}"
        )
