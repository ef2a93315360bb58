"""Finding a CJK font for poster captions: a configured path, else a search order.

Captions name channels and campaigns in Chinese; Pillow's built-in bitmap font has no
CJK glyphs, so a poster needs a real font file. ``WXQR_POSTER_FONT`` names one; without
it the usual Debian, Fedora/Arch and macOS locations are tried in turn. Nothing found is
an error that says what to install, never a poster of empty boxes.
"""

from __future__ import annotations

import glob
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

__all__ = ["FONT_SEARCH_ORDER", "FontNotFound", "caption_font", "find_cjk_font"]

#: Tried in order when no font is configured (globs allowed).
FONT_SEARCH_ORDER: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch noto-fonts-cjk
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/System/Library/Fonts/STHeiti Medium.ttc",
)

#: In a Noto CJK collection, the face drawn with simplified-Chinese glyph shapes.
_PREFERRED_FACE = "SC"


class FontNotFound(LookupError):
    """No usable CJK font: the message says where it looked and what to install."""


def find_cjk_font(configured: str | None = None) -> Path:
    """The font file captions are drawn with: ``configured`` (it must exist), else the
    first file of :data:`FONT_SEARCH_ORDER` that exists."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontNotFound(f"WXQR_POSTER_FONT={configured}: no such font file")
        return path
    for pattern in FONT_SEARCH_ORDER:
        for found in sorted(glob.glob(pattern)):
            if Path(found).is_file():
                return Path(found)
    raise FontNotFound(
        "no CJK font found for poster captions: install Debian's fonts-noto-cjk "
        "(apt-get install fonts-noto-cjk) or set WXQR_POSTER_FONT to a .ttf/.otf/.ttc file "
        f"(looked in: {', '.join(FONT_SEARCH_ORDER)})"
    )


def _face_index(path: Path) -> int:
    """In a collection (.ttc), the simplified-Chinese face when there is one."""
    if path.suffix.lower() != ".ttc":
        return 0
    for index in range(16):
        try:
            family, _ = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break
        if family and family.split()[-1] == _PREFERRED_FACE:
            return index
    return 0


@lru_cache(maxsize=64)
def caption_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The font of ``path`` at ``size`` pixels (cached: loading a CJK collection is slow)."""
    try:
        return ImageFont.truetype(str(path), size, index=_face_index(path))
    except OSError as exc:
        raise FontNotFound(f"{path} is not a font Pillow can read: {exc}") from None
