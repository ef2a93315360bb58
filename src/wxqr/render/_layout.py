"""A poster's layout: where the code goes on the artwork and which captions are drawn.

Stored as JSON beside the artwork; :meth:`PosterLayout.from_dict` is the one parser (API,
CLI and dashboard all send the same shape) and refuses anything it cannot draw.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ._options import ErrorLevel
from ._scannable import check_colours

__all__ = [
    "PLACEHOLDERS",
    "Caption",
    "CodeBox",
    "PosterLayout",
    "caption_text",
    "placeholders_of",
]

#: The names a caption may use, e.g. ``"扫码关注 {channel_name}"``.
PLACEHOLDERS = ("channel_name", "group", "scene", "channel_id", "account")
ALIGNMENTS = ("left", "center", "right")
MAX_CAPTIONS = 8
MAX_TEXT = 200
MAX_FONT_SIZE = 600
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_FORMATTER = string.Formatter()


def _int(data: Mapping[str, Any], key: str, default: int | None, low: int, high: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer")
    if not low <= value <= high:
        raise ValueError(f"{key} must be {low}..{high}, got {value}")
    return value


def _colour(data: Mapping[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise ValueError(f"{key} must be a #rgb or #rrggbb colour")
    return value.lower()


def placeholders_of(text: str) -> set[str]:
    """The placeholder names in ``text``; anything but a plain known name is refused (no
    attribute access, indexing or format specs)."""
    names: set[str] = set()
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ValueError(f"caption {text!r}: {exc} (write {{{{ and }}}} for braces)") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"caption {text!r}: unknown placeholder {{{name}}}; use "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
        names.add(name)
    return names


def caption_text(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders filled (missing values are empty)."""
    return text.format_map({name: values.get(name, "") for name in PLACEHOLDERS})


@dataclass(frozen=True, slots=True)
class CodeBox:
    """The square the code is drawn in (its quiet zone included), in artwork pixels."""

    x: int
    y: int
    size: int
    border: int = 4
    dark: str = "#000000"
    light: str = "#ffffff"
    error: str = "M"


@dataclass(frozen=True, slots=True)
class Caption:
    """A line (or, with ``wrap``, lines) of text in the box from (x, y), ``width`` wide."""

    text: str
    x: int
    y: int
    width: int
    font_size: int = 48
    colour: str = "#000000"
    align: str = "left"
    wrap: bool = True
    max_lines: int = 3


@dataclass(frozen=True, slots=True)
class PosterLayout:
    code: CodeBox
    captions: tuple[Caption, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, width: int, height: int) -> PosterLayout:
        """Parse and check a layout for an artwork of ``width`` × ``height`` pixels."""
        if not isinstance(data, Mapping):
            raise ValueError("the layout must be an object with `code` and `captions`")
        raw_code = data.get("code")
        if not isinstance(raw_code, Mapping):
            raise ValueError("the layout needs `code`: {x, y, size}")
        size = _int(raw_code, "size", None, 21, min(width, height))
        code = CodeBox(
            x=_int(raw_code, "x", None, 0, width - size),
            y=_int(raw_code, "y", None, 0, height - size),
            size=size,
            border=_int(raw_code, "border", 4, 1, 8),
            dark=_colour(raw_code, "dark", "#000000"),
            light=_colour(raw_code, "light", "#ffffff"),
            error=str(raw_code.get("error", "M")).upper(),
        )
        if code.error not in ErrorLevel.__members__:
            raise ValueError("code.error must be one of L, M, Q, H")
        check_colours(code.dark, code.light)
        raw_captions = data.get("captions", [])
        if not isinstance(raw_captions, list) or len(raw_captions) > MAX_CAPTIONS:
            raise ValueError(f"captions must be a list of at most {MAX_CAPTIONS}")
        captions = tuple(_caption(raw, width, height) for raw in raw_captions)
        return cls(code, captions)

    def to_dict(self) -> dict[str, Any]:
        return {"code": asdict(self.code), "captions": [asdict(c) for c in self.captions]}


def _caption(raw: Any, width: int, height: int) -> Caption:
    if not isinstance(raw, Mapping):
        raise ValueError("each caption must be an object")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise ValueError(f"caption text must be 1..{MAX_TEXT} characters")
    placeholders_of(text)
    x = _int(raw, "x", None, 0, width - 1)
    align = raw.get("align", "left")
    if align not in ALIGNMENTS:
        raise ValueError(f"caption align must be one of {', '.join(ALIGNMENTS)}")
    wrap = raw.get("wrap", True)
    if not isinstance(wrap, bool):
        raise ValueError("caption wrap must be true or false")
    return Caption(
        text=text,
        x=x,
        y=_int(raw, "y", None, 0, height - 1),
        width=_int(raw, "width", width - x, 1, width - x),
        font_size=_int(raw, "font_size", 48, 6, MAX_FONT_SIZE),
        colour=_colour(raw, "colour", "#000000"),
        align=align,
        wrap=wrap,
        max_lines=_int(raw, "max_lines", 3, 1, 20),
    )
