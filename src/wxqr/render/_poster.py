"""Drawing posters: the artwork with its captions, and the code pasted in its box.

Speed comes from doing the expensive work once: the artwork is decoded and the captions
that are the same for every channel of a batch are drawn once into a *base*; each poster
is a copy of the base, its own captions, its code (drawn at one pixel per module and
scaled up without smoothing) and one encode (PNG at compress level 1, or JPEG q=90 of
only the rows the poster changed, spliced into the base's: :mod:`._jpeg_rows`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from ._fonts import caption_font, find_cjk_font
from ._jpeg_rows import JpegRows, encode_jpeg
from ._layout import Caption, CodeBox, PosterLayout, caption_text, placeholders_of
from ._scannable import PRINT_DPI, check_module_size

__all__ = [
    "POSTER_FORMATS",
    "REFERENCE_URL",
    "CodeLook",
    "PosterArt",
    "check_code_box",
    "encode",
    "render_poster",
    "sample_values",
    "scaled_preview",
]

#: Output formats and their content types.
POSTER_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "pdf": "application/pdf"}
#: As long as a WeChat ``showqrcode`` url gets: a layout is checked against its symbol.
REFERENCE_URL = "http://weixin.qq.com/q/02" + "x" * 37


@dataclass(frozen=True, slots=True)
class CodeLook:
    """A saved code style applied to a poster's code box: its colours and error level
    replace the layout's, and ``logo`` (image bytes) is drawn in the middle of the
    symbol, ``logo_ratio`` of its width (the error level is then H)."""

    dark: str
    light: str
    error: str
    logo: bytes | None = field(default=None, repr=False)
    logo_ratio: float = 0.2

    def box(self, box: CodeBox) -> CodeBox:
        """``box`` drawn in this look (position, size and quiet zone unchanged)."""
        error = "H" if self.logo is not None else self.error.upper()
        return replace(box, dark=self.dark, light=self.light, error=error)


def _symbol(url: str, box: CodeBox) -> segno.QRCode:
    return segno.make_qr(url, error=box.error.lower(), boost_error=True)


def _width(qr: segno.QRCode, box: CodeBox) -> int:
    return int(qr.symbol_size(scale=1, border=box.border)[0])


def check_code_box(box: CodeBox, url: str = REFERENCE_URL, *, minimum: int) -> int:
    """Pixels per module of ``url``'s code in ``box``; refused when below ``minimum``."""
    qr = _symbol(url, box)
    return check_module_size(box.size, _width(qr, box), minimum=minimum)


def _paste_code(
    image: Image.Image, url: str, box: CodeBox, minimum: int, logo: Image.Image | None = None
) -> None:
    """Draw ``url``'s code into ``box`` of ``image``: the box filled with the light colour,
    the modules (one pixel each, scaled up without smoothing) pasted through as a mask,
    and ``logo`` (RGBA, already at most the logo's side) on a light plate in the middle."""
    qr = _symbol(url, box)
    modules = _width(qr, box)
    scale = check_module_size(box.size, modules, minimum=minimum)
    bits = bytes(
        255 if dark else 0 for row in qr.matrix_iter(scale=1, border=box.border) for dark in row
    )
    small = Image.frombytes("L", (modules, modules), bits)
    mask = small.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)
    offset = (box.size - mask.width) // 2
    image.paste(box.light, (box.x, box.y, box.x + box.size, box.y + box.size))
    image.paste(box.dark, (box.x + offset, box.y + offset), mask)
    if logo is not None:
        pad = scale
        left = box.x + (box.size - logo.width) // 2
        top = box.y + (box.size - logo.height) // 2
        plate = (left - pad, top - pad, left + logo.width + pad, top + logo.height + pad)
        image.paste(box.light, plate)
        image.paste(logo, (left, top), logo)


def _logo_side(url: str, box: CodeBox, ratio: float) -> int:
    """The logo's side in pixels: ``ratio`` of the symbol's width (quiet zone excluded)."""
    qr = _symbol(url, box)
    modules = _width(qr, box)
    scale = box.size // modules
    return max(1, int((modules - 2 * box.border) * scale * ratio))


def _logo_image(data: bytes, side: int) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            logo = opened.convert("RGBA")
    except (OSError, ValueError) as exc:
        raise ValueError(f"logo is not a readable image: {exc}") from None
    logo.thumbnail((side, side), Image.Resampling.LANCZOS)
    return logo


def _lines(text: str, caption: Caption, font: ImageFont.FreeTypeFont) -> list[str]:
    """``text`` broken into lines of at most ``caption.width`` pixels: at spaces where it
    can, between characters where it must (CJK has no spaces)."""
    if not caption.wrap:
        return [text]
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for char in paragraph:
            candidate = line + char
            if not line or font.getlength(candidate) <= caption.width:
                line = candidate
                continue
            cut = line.rfind(" ")
            if char != " " and cut > 0:
                lines.append(line[:cut])
                line = line[cut + 1 :] + char
            else:
                lines.append(line)
                line = "" if char == " " else char
        lines.append(line)
    if len(lines) > caption.max_lines:
        lines = lines[: caption.max_lines]
        lines[-1] = lines[-1].rstrip()[:-1] + "…"
    return lines


def _draw_caption(
    image: Image.Image, caption: Caption, values: Mapping[str, str], font_path: Path
) -> None:
    font = caption_font(font_path, caption.font_size)
    text = caption_text(caption.text, values)
    draw = ImageDraw.Draw(image)
    step = round(caption.font_size * 1.3)
    for number, line in enumerate(_lines(text, caption, font)):
        length = font.getlength(line)
        if caption.align == "center":
            x = caption.x + (caption.width - length) / 2
        elif caption.align == "right":
            x = caption.x + caption.width - length
        else:
            x = caption.x
        draw.text((x, caption.y + number * step), line, font=font, fill=caption.colour)


@dataclass
class PosterArt:
    """A template's artwork decoded once, with the captions common to a batch drawn on it.

    ``static``: the values every poster of the batch shares (e.g. the group); captions
    that use only those are drawn into the base, the others on each poster.
    """

    artwork: Image.Image
    layout: PosterLayout
    font_path: Path | None
    min_module_px: int
    static: Mapping[str, str] = field(default_factory=dict)
    _base: Image.Image | None = None
    _restore: list[tuple[tuple[int, int, int, int], Image.Image]] | None = None
    _logos: dict[tuple[int, int], Image.Image] = field(default_factory=dict)
    _jpeg: JpegRows | None = None
    _jpegs: int = 0

    def _needs_font(self) -> Path:
        if self.font_path is None:
            self.font_path = find_cjk_font()
        return self.font_path

    def _per_poster(self, caption: Caption) -> bool:
        """Whether ``caption`` uses a value not common to the batch."""
        return bool(placeholders_of(caption.text) - set(self.static))

    @property
    def base(self) -> Image.Image:
        if self._base is None:
            base = self.artwork.copy()
            for caption in self.layout.captions:
                if not self._per_poster(caption):
                    _draw_caption(base, caption, self.static, self._needs_font())
            self._base = base
        return self._base

    def _logo(self, look: CodeLook, url: str, box: CodeBox) -> Image.Image | None:
        """The look's logo decoded and sized for ``box``, kept for the next poster."""
        if look.logo is None:
            return None
        side = _logo_side(url, box, look.logo_ratio)
        key = (hash(look.logo), side)
        if key not in self._logos:
            if len(self._logos) > 8:
                self._logos.clear()
            self._logos[key] = _logo_image(look.logo, side)
        return self._logos[key]

    def _draw_into(
        self,
        image: Image.Image,
        url: str,
        values: Mapping[str, str],
        look: CodeLook | None = None,
    ) -> None:
        merged = {**self.static, **values}
        for caption in self.layout.captions:
            if self._per_poster(caption):
                _draw_caption(image, caption, merged, self._needs_font())
        box = self.layout.code if look is None else look.box(self.layout.code)
        logo = None if look is None else self._logo(look, url, box)
        _paste_code(image, url, box, self.min_module_px, logo)

    def draw(
        self, url: str, values: Mapping[str, str], look: CodeLook | None = None
    ) -> Image.Image:
        """The poster of ``url`` (the code) with ``values`` in its captions, as a new image;
        ``look``: a saved style over the layout's colours (and a logo)."""
        poster = self.base.copy()
        self._draw_into(poster, url, values, look)
        return poster

    def _touched(self) -> list[tuple[tuple[int, int, int, int], Image.Image]]:
        """The regions a poster draws over (code box, per-poster captions with room for
        glyphs that overhang), with the base's pixels there, saved once."""
        if self._restore is None:
            width, height = self.base.size
            boxes = []
            code = self.layout.code
            boxes.append((code.x, code.y, code.x + code.size, code.y + code.size))
            for caption in self.layout.captions:
                if self._per_poster(caption):
                    pad = caption.font_size
                    bottom = caption.y + (caption.max_lines + 1) * round(caption.font_size * 1.3)
                    boxes.append(
                        (
                            max(0, caption.x - pad),
                            max(0, caption.y - pad),
                            min(width, caption.x + caption.width + pad),
                            min(height, bottom + pad),
                        )
                    )
            self._restore = [(box, self.base.crop(box)) for box in boxes]
        return self._restore

    def encoded(
        self, url: str, values: Mapping[str, str], fmt: str, look: CodeLook | None = None
    ) -> bytes:
        """The poster encoded as ``fmt``, drawn into the base itself (no 26 MB copy per
        poster) and the touched regions put back afterwards. Not for concurrent use."""
        restore = self._touched()
        if fmt == "jpeg" and self._jpeg is None and self._jpegs:
            # A second JPEG poster of this art: a batch. The base's rows, encoded once (a
            # single poster is cheaper encoded whole).
            self._jpeg = JpegRows(self.base, PRINT_DPI)
        self._jpegs += fmt == "jpeg"
        try:
            self._draw_into(self.base, url, values, look)
            if fmt == "jpeg" and self._jpeg is not None:
                # Only the rows the poster drew on are encoded again (_jpeg_rows).
                return self._jpeg.encode(self.base, [(box[1], box[3]) for box, _ in restore])
            return encode(self.base, fmt)
        finally:
            for box, pixels in restore:
                self.base.paste(pixels, box[:2])


def encode(image: Image.Image, fmt: str) -> bytes:
    """``image`` as ``fmt`` (png | jpeg | pdf) bytes, with fast settings and print dpi."""
    out = io.BytesIO()
    dpi = (PRINT_DPI, PRINT_DPI)
    if fmt == "png":
        image.save(out, format="PNG", compress_level=1, dpi=dpi)
    elif fmt == "jpeg":
        return encode_jpeg(image, PRINT_DPI)
    elif fmt == "pdf":
        image.save(out, format="PDF", resolution=float(PRINT_DPI))
    else:
        raise ValueError(f"unknown poster format {fmt!r}: use {', '.join(POSTER_FORMATS)}")
    return out.getvalue()


def render_poster(
    art: PosterArt,
    url: str,
    values: Mapping[str, str],
    fmt: str = "png",
    look: CodeLook | None = None,
) -> bytes:
    """One poster, encoded (drawn into ``art``'s base, which is restored afterwards)."""
    return art.encoded(url, values, fmt, look)


def sample_values(values: Mapping[str, str] | None = None) -> dict[str, str]:
    """Values for a preview: the given ones over recognisable samples."""
    sample = {
        "channel_name": "示例渠道 Sample",
        "group": "示例分组",
        "scene": "12345",
        "channel_id": "1",
        "account": "wx0000000000000000",
    }
    return {**sample, **(values or {})}


def scaled_preview(image: Image.Image, width: int) -> bytes:
    """A small JPEG of ``image`` for the editor's live preview."""
    small = image.copy()
    small.thumbnail((width, width * 4), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()
