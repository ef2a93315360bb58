"""Decode QR images in tests (zxing-cpp), so an image is checked for what it encodes."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from tests.render.svg_raster import rasterize

__all__ = ["decode_png", "decode_svg"]


def _decode(image: Image.Image) -> str:
    found = list(zxingcpp.read_barcodes(image.convert("RGB")))
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return str(found[0].text)


def decode_png(data: bytes) -> str:
    """The text of the one QR code in a PNG or JPEG image."""
    return _decode(Image.open(io.BytesIO(data)))


def decode_svg(data: bytes) -> str:
    return _decode(rasterize(data, upscale=2))
