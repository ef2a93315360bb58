"""The ``showqrcode`` image: a real JPEG of the code's url (WeChat serves 430x430)."""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from PIL import Image

__all__ = ["IMAGE_SIZE", "render_jpeg"]

IMAGE_SIZE = 430


@lru_cache(maxsize=256)
def render_jpeg(url: str) -> bytes:
    """A JPEG whose QR code decodes to ``url``."""
    code = segno.make_qr(url, error="m")
    png = io.BytesIO()
    code.save(png, kind="png", scale=10, border=2)
    png.seek(0)
    with Image.open(png) as img:
        picture = img.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.NEAREST)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90)
    return out.getvalue()
