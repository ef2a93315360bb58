"""PNG and SVG rendering of a QR code's url with segno (and Pillow for the logo)."""

from __future__ import annotations

import base64
import io

import segno
from PIL import Image, ImageColor

from ._options import RenderOptions

__all__ = ["render_png", "render_svg"]

_DEFAULT = RenderOptions()


def _symbol(url: str, options: RenderOptions) -> segno.QRCode:
    if not url:
        raise ValueError("url must not be empty")
    return segno.make_qr(url, error=options.effective_error.value.lower(), boost_error=True)


def _modules(qr: segno.QRCode, options: RenderOptions) -> int:
    width, _ = qr.symbol_size(scale=1, border=options.border)
    return int(width)


def _whole_scale(qr: segno.QRCode, options: RenderOptions) -> int:
    if options.size is None:
        return options.scale
    scale = options.size // _modules(qr, options)
    if scale < 1:
        raise ValueError(
            f"size {options.size} px is too small: the symbol needs "
            f"{_modules(qr, options)} modules with its border"
        )
    return scale


def _rgba(colour: str | None) -> tuple[int, int, int, int]:
    if colour is None:
        return (0, 0, 0, 0)
    rgb = ImageColor.getrgb(colour)
    return (rgb[0], rgb[1], rgb[2], 255) if len(rgb) == 3 else (rgb[0], rgb[1], rgb[2], rgb[3])


def _logo_image(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            return opened.convert("RGBA")
    except (OSError, ValueError) as exc:
        raise ValueError(f"logo is not a readable image: {exc}") from None


def _logo_box(symbol_px: int, border_px: int, options: RenderOptions) -> tuple[int, int]:
    """Top-left corner and side of the square reserved for the logo, in pixels."""
    inner = symbol_px - 2 * border_px
    side = max(1, int(inner * options.logo_ratio))
    return (symbol_px - side) // 2, side


def render_png(url: str, options: RenderOptions | None = None) -> bytes:
    """The QR code of ``url`` as PNG bytes."""
    options = options or _DEFAULT
    qr = _symbol(url, options)
    scale = _whole_scale(qr, options)
    buffer = io.BytesIO()
    qr.save(
        buffer,
        kind="png",
        scale=scale,
        border=options.border,
        dark=options.dark,
        light=options.light,
    )
    if options.logo is None and options.size is None:
        return buffer.getvalue()
    with Image.open(io.BytesIO(buffer.getvalue())) as drawn:
        image = drawn.convert("RGBA")
    if options.logo is not None:
        _paste_logo(image, options, scale)
    if options.size is not None and image.width != options.size:
        canvas = Image.new("RGBA", (options.size, options.size), _rgba(options.light))
        offset = (options.size - image.width) // 2
        canvas.paste(image, (offset, offset))
        image = canvas
    if options.light is not None:
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _paste_logo(image: Image.Image, options: RenderOptions, scale: int) -> None:
    assert options.logo is not None
    logo = _logo_image(options.logo)
    start, side = _logo_box(image.width, options.border * scale, options)
    pad = max(1, scale)
    backdrop = _rgba(options.light or "#ffffff")
    plate = Image.new("RGBA", (side + 2 * pad, side + 2 * pad), backdrop)
    image.paste(plate, (start - pad, start - pad))
    logo.thumbnail((side, side), Image.Resampling.LANCZOS)
    x = start + (side - logo.width) // 2
    y = start + (side - logo.height) // 2
    image.alpha_composite(logo, (x, y))


def render_svg(url: str, options: RenderOptions | None = None) -> bytes:
    """The QR code of ``url`` as an SVG document (UTF-8 bytes)."""
    options = options or _DEFAULT
    qr = _symbol(url, options)
    modules = _modules(qr, options)
    scale: float = options.scale if options.size is None else options.size / modules
    buffer = io.BytesIO()
    qr.save(
        buffer,
        kind="svg",
        scale=scale,
        border=options.border,
        dark=options.dark,
        light=options.light,
        xmldecl=True,
        svgclass=None,
        lineclass=None,
    )
    svg = buffer.getvalue()
    if options.logo is None:
        return svg
    return _svg_with_logo(svg, options, modules * scale, options.border * scale)


def _svg_with_logo(svg: bytes, options: RenderOptions, width: float, border: float) -> bytes:
    assert options.logo is not None
    logo = _logo_image(options.logo)
    png = io.BytesIO()
    logo.save(png, format="PNG")
    href = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    inner = width - 2 * border
    side = inner * options.logo_ratio
    start = (width - side) / 2
    pad = width / 100
    backdrop = options.light or "#ffffff"
    extra = (
        f'<rect x="{start - pad:.2f}" y="{start - pad:.2f}" width="{side + 2 * pad:.2f}" '
        f'height="{side + 2 * pad:.2f}" fill="{backdrop}"/>'
        f'<image x="{start:.2f}" y="{start:.2f}" width="{side:.2f}" height="{side:.2f}" '
        f'preserveAspectRatio="xMidYMid meet" href="{href}"/>'
    )
    closing = svg.rindex(b"</svg>")
    return svg[:closing] + extra.encode("ascii") + svg[closing:]
