"""Poster artwork for tests: a busy A4 picture (many coloured discs) and small images."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

__all__ = ["A4", "busy_artwork", "campaign_artwork", "plain_image", "sample_layout"]

A4 = (2480, 3508)


def busy_artwork(size: tuple[int, int] = A4, *, discs: int = 2500, fmt: str = "JPEG") -> bytes:
    """A picture with detail everywhere (the worst background for a code)."""
    image = Image.new("RGB", size, "#203040")
    draw = ImageDraw.Draw(image)
    rnd = random.Random(19)
    width, height = size
    for _ in range(discs):
        x, y, r = rnd.randrange(width), rnd.randrange(height), rnd.randrange(8, size[0] // 12)
        draw.ellipse((x, y, x + r, y + r), fill=tuple(rnd.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def plain_image(size: tuple[int, int], fmt: str = "PNG", colour: str = "#f5e6c8") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def sample_layout(code_size: int = 900) -> dict[str, object]:
    """A layout for A4 artwork: a title, the code, a per-channel caption under it."""
    width, _ = A4
    return {
        "code": {"x": (width - code_size) // 2, "y": 1700, "size": code_size},
        "captions": [
            {
                "text": "{group} · 扫码关注",
                "x": 160,
                "y": 500,
                "width": width - 320,
                "font_size": 150,
                "colour": "#ffffff",
                "align": "center",
            },
            {
                "text": "{channel_name}",
                "x": 160,
                "y": 1700 + code_size + 60,
                "width": width - 320,
                "font_size": 110,
                "colour": "#ffe082",
                "align": "center",
            },
        ],
    }


def campaign_artwork(size: tuple[int, int] = A4) -> bytes:
    """A calmer picture, like a real campaign's: a warm gradient, discs at the top, and a
    light panel where the code and the channel's caption go (the docs' sample poster)."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge(
        "RGB",
        (
            gradient.point(lambda v: 200 + v // 5),
            gradient.point(lambda v: 40 + v // 2),
            gradient.point(lambda v: 60 - v // 5),
        ),
    )
    draw = ImageDraw.Draw(image)
    rnd = random.Random(7)
    for _ in range(60):
        x, y, r = rnd.randrange(width), rnd.randrange(height // 4), rnd.randrange(40, 260)
        draw.ellipse((x, y, x + r, y + r), fill=(255, 214 + rnd.randrange(40), 120))
    draw.rounded_rectangle((280, 1500, width - 280, 3200), radius=80, fill="#fff8ee")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
