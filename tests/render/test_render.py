"""Rendered codes decode back to their url (zxing-cpp), in every option combination."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from wxqr.render import ErrorLevel, RenderOptions, render_png, render_svg

from .svg_raster import rasterize

# The url of WeChat's public sample ticket (protocol facts), and a longer one.
URL = "http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI"
LONG_URL = "http://weixin.qq.com/q/02" + "AbCdEfGhIj" * 6
_LEVEL_ORDER = "LMQH"


def _png_logo(colour: str = "#e53935", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    return list(zxingcpp.read_barcodes(image))


def _open_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("url", [URL, LONG_URL])
@pytest.mark.parametrize("level", list(ErrorLevel))
def test_png_decodes_back_to_the_url_at_every_error_level(url: str, level: ErrorLevel) -> None:
    found = _decode(_open_png(render_png(url, RenderOptions(error=level, scale=4))))
    assert [b.text for b in found] == [url]
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    assert _LEVEL_ORDER.index(found[0].ec_level) >= _LEVEL_ORDER.index(level.value)


@pytest.mark.parametrize("url", [URL, LONG_URL])
def test_svg_decodes_back_to_the_url(url: str) -> None:
    svg = render_svg(url, RenderOptions(scale=4, error=ErrorLevel.Q))
    ET.fromstring(svg)  # well-formed XML
    assert [b.text for b in _decode(rasterize(svg))] == [url]


@pytest.mark.parametrize(("scale", "border"), [(1, 4), (3, 0), (5, 2), (8, 10)])
def test_png_dimensions_follow_scale_and_border(scale: int, border: int) -> None:
    image = _open_png(
        render_png(URL, RenderOptions(scale=scale, border=border, error=ErrorLevel.H))
    )
    assert image.width == image.height
    modules = image.width // scale
    assert image.width == modules * scale
    assert (modules - 2 * border - 17) % 4 == 0  # a QR symbol is 17 + 4 * version modules
    if scale >= 3:
        assert [b.text for b in _decode(image)] == [URL]


@pytest.mark.parametrize("size", [200, 333, 512, 1000])
def test_size_gives_exact_pixels_in_png_and_svg(size: int) -> None:
    options = RenderOptions(size=size)
    image = _open_png(render_png(URL, options))
    assert image.size == (size, size)
    assert [b.text for b in _decode(image)] == [URL]
    svg = render_svg(URL, options)
    root = ET.fromstring(svg)
    assert round(float(root.attrib["width"])) == size
    assert round(float(root.attrib["height"])) == size
    assert [b.text for b in _decode(rasterize(svg))] == [URL]


def test_size_too_small_for_the_symbol_is_an_error() -> None:
    with pytest.raises(ValueError, match="too small"):
        render_png(URL, RenderOptions(size=20))


def test_colours_are_drawn_as_given() -> None:
    options = RenderOptions(scale=6, border=4, dark="#1a237e", light="#fff8e1")
    image = _open_png(render_png(URL, options)).convert("RGB")
    assert image.getpixel((0, 0)) == (0xFF, 0xF8, 0xE1)  # quiet zone: light
    assert image.getpixel((4 * 6, 4 * 6)) == (0x1A, 0x23, 0x7E)  # finder corner: dark
    colours = {colour for _, colour in image.getcolors() or []}
    assert colours == {(0xFF, 0xF8, 0xE1), (0x1A, 0x23, 0x7E)}
    assert [b.text for b in _decode(image)] == [URL]
    svg = render_svg(URL, options).decode()
    assert 'stroke="#1a237e"' in svg
    assert 'fill="#fff8e1"' in svg
    assert [b.text for b in _decode(rasterize(svg.encode()))] == [URL]


def test_transparent_light_keeps_the_background_transparent() -> None:
    image = _open_png(render_png(URL, RenderOptions(scale=4, light=None))).convert("RGBA")
    assert image.getpixel((0, 0)) == (255, 255, 255, 0)
    assert image.getpixel((16, 16)) == (0, 0, 0, 255)
    flattened = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    assert [b.text for b in _decode(flattened.convert("RGB"))] == [URL]
    svg = render_svg(URL, RenderOptions(scale=4, light=None))
    assert not [e for e in ET.fromstring(svg).iter() if "fill" in e.attrib]
    assert [b.text for b in _decode(rasterize(svg))] == [URL]


@pytest.mark.parametrize("ratio", [0.15, 0.2, 0.3])
def test_logo_forces_level_h_is_centred_and_still_decodes(ratio: float) -> None:
    options = RenderOptions(scale=6, error=ErrorLevel.L, logo=_png_logo(), logo_ratio=ratio)
    assert options.effective_error is ErrorLevel.H
    image = _open_png(render_png(URL, options)).convert("RGB")
    centre = (image.width // 2, image.height // 2)
    assert image.getpixel(centre) == (0xE5, 0x39, 0x35)
    found = _decode(image)
    assert [b.text for b in found] == [URL]
    assert found[0].ec_level == "H"


def test_logo_in_svg_is_embedded_and_still_decodes() -> None:
    options = RenderOptions(scale=6, logo=_png_logo("#43a047"), logo_ratio=0.25)
    svg = render_svg(URL, options)
    assert b"<image " in svg
    assert b"data:image/png;base64," in svg
    raster = rasterize(svg)
    assert raster.getpixel((raster.width // 2, raster.height // 2)) == (0x43, 0xA0, 0x47)
    found = _decode(raster)
    assert [b.text for b in found] == [URL]
    assert found[0].ec_level == "H"


def test_logo_accepts_other_formats_and_transparency() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 255, 128)).save(buffer, format="WEBP")
    image = _open_png(render_png(URL, RenderOptions(logo=buffer.getvalue(), scale=5)))
    assert [b.text for b in _decode(image)] == [URL]


def test_unreadable_logo_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="logo is not a readable image"):
        render_png(URL, RenderOptions(logo=b"not an image"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale": 0},
        {"border": -1},
        {"size": 0},
        {"logo_ratio": 0.5},
        {"logo_ratio": 0},
        {"error": "X"},
        {"logo": b""},
    ],
)
def test_invalid_options_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        RenderOptions(**kwargs)  # type: ignore[arg-type]


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="url"):
        render_png("")
    with pytest.raises(ValueError):  # noqa: PT011 - segno's message
        render_png(URL, RenderOptions(dark="not-a-colour"))


def test_error_level_accepts_lower_case_strings() -> None:
    assert RenderOptions(error="h").error is ErrorLevel.H  # type: ignore[arg-type]


def test_options_repr_hides_the_logo_bytes_and_cache_key_tells_options_apart() -> None:
    logo = _png_logo()
    options = RenderOptions(logo=logo)
    assert "logo=" not in repr(options)
    keys = {
        RenderOptions().cache_key("png"),
        RenderOptions().cache_key("svg"),
        RenderOptions(scale=5).cache_key("png"),
        RenderOptions(dark="#111111").cache_key("png"),
        options.cache_key("png"),
        RenderOptions(logo=_png_logo("#000001")).cache_key("png"),
    }
    assert len(keys) == 6
    assert all(len(k) <= 128 for k in keys)
    assert RenderOptions(scale=5).cache_key("png") == RenderOptions(scale=5).cache_key("png")
