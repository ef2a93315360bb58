"""Validating uploaded images (poster artwork, logos) before anything decodes them whole.

An upload is refused by its byte count first, then by what its header says (format and
pixel count, read without decoding the pixels), so a small file that claims a huge
canvas (a decompression bomb) never allocates it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

__all__ = ["CheckedImage", "ImageBounds", "ImageRefused", "checked_image", "decode_rgb"]

_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class ImageRefused(ValueError):
    """An upload that is not a bounded PNG or JPEG (the message says why)."""


@dataclass(frozen=True, slots=True)
class ImageBounds:
    """Limits of one kind of upload: bytes, pixels (width × height), and the shortest side."""

    max_bytes: int
    max_pixels: int
    min_side: int = 1


@dataclass(frozen=True, slots=True)
class CheckedImage:
    content_type: str
    width: int
    height: int


def checked_image(data: bytes, bounds: ImageBounds, what: str = "image") -> CheckedImage:
    """The type and size of ``data``, or :class:`ImageRefused`; the pixels are decoded
    once, after the header passed, to catch truncated files."""
    if not data:
        raise ImageRefused(f"the {what} is empty")
    if len(data) > bounds.max_bytes:
        raise ImageRefused(f"the {what} is {len(data)} bytes: at most {bounds.max_bytes} allowed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as opened:
                fmt = str(opened.format)
                width, height = opened.size
                if width * height > bounds.max_pixels:
                    raise ImageRefused(
                        f"the {what} is {width}×{height} pixels: at most "
                        f"{bounds.max_pixels} pixels allowed"
                    )
                if min(width, height) < bounds.min_side:
                    raise ImageRefused(
                        f"the {what} is {width}×{height} pixels: each side must be at "
                        f"least {bounds.min_side}"
                    )
                opened.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(f"the {what} is too large to decode: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRefused(f"the {what} is not a readable PNG or JPEG image: {exc}") from None
    return CheckedImage(_FORMATS[fmt], width, height)


def decode_rgb(data: bytes) -> Image.Image:
    """The pixels of an image already passed by :func:`checked_image`, as RGB."""
    with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as opened:
        if opened.mode in ("RGBA", "LA", "P"):
            rgba = opened.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return opened.convert("RGB")
