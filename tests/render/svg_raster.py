"""A tiny rasteriser for the SVG subset segno writes (and the logo wxqr adds), so tests
can decode rendered SVG with zxing-cpp without a full SVG engine.

Handles: the root ``width``/``height``; ``path`` elements (in a
``<g transform="scale(s)">`` or with that transform themselves): a background (``fill``)
and the dark modules as a stroked ``path`` of ``M``/``m`` moves and ``h`` runs (stroke
width 1, centred on y + 0.5); after it, ``rect`` and ``image`` (data URI) elements in
pixel units.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

from PIL import Image, ImageColor, ImageDraw

_NS = "{http://www.w3.org/2000/svg}"
_TOKENS = re.compile(r"([MmHhVvZz])\s*([-0-9.\s]*)")


def _colour(value: str | None) -> tuple[int, int, int, int]:
    if value is None or value == "none":
        return (255, 255, 255, 0)
    rgb = ImageColor.getrgb(value)
    return (rgb[0], rgb[1], rgb[2], 255)


def _runs(d: str) -> list[tuple[float, float, float]]:
    """Horizontal runs (x0, x1, y_centre) of a path of moves and ``h`` segments."""
    runs: list[tuple[float, float, float]] = []
    x = y = 0.0
    for command, args in _TOKENS.findall(d):
        numbers = [float(n) for n in args.split()] if args.strip() else []
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif command == "h":
            runs.append((x, x + numbers[0], y))
            x += numbers[0]
        elif command not in "Zz":
            raise AssertionError(f"path command {command!r} is outside the supported subset")
    return runs


def _scale(attrib: dict[str, str]) -> float:
    match = re.fullmatch(r"scale\(([0-9.]+)\)", attrib.get("transform", ""))
    return float(match.group(1)) if match else 1.0


def rasterize(svg: bytes, upscale: int = 1) -> Image.Image:
    root = ET.fromstring(svg)
    width = round(float(root.attrib["width"]))
    height = round(float(root.attrib["height"]))
    image = Image.new("RGBA", (width * upscale, height * upscale), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for element in root:
        tag = element.tag.removeprefix(_NS)
        if tag == "g":
            for path in element:
                _draw_path(draw, path.attrib, _scale(element.attrib) * upscale)
        elif tag == "path":
            _draw_path(draw, element.attrib, _scale(element.attrib) * upscale)
        elif tag == "rect":
            box = [float(element.attrib[k]) * upscale for k in ("x", "y", "width", "height")]
            draw.rectangle(
                (box[0], box[1], box[0] + box[2], box[1] + box[3]),
                fill=_colour(element.attrib["fill"]),
            )
        elif tag == "image":
            href = element.attrib["href"]
            data = base64.b64decode(href.split(",", 1)[1])
            logo = Image.open(io.BytesIO(data)).convert("RGBA")
            x, y, w, h = (float(element.attrib[k]) * upscale for k in ("x", "y", "width", "height"))
            logo.thumbnail((int(w), int(h)))
            image.alpha_composite(logo, (int(x), int(y)))
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, image).convert("RGB")


def _draw_path(draw: ImageDraw.ImageDraw, attrib: dict[str, str], scale: float) -> None:
    d = attrib["d"]
    if "fill" in attrib and "stroke" not in attrib:
        # the background: "M0 0hWvHh-Wz"
        size = [float(n) for n in re.findall(r"[-0-9.]+", d)]
        box = (0, 0, size[2] * scale - 1, size[3] * scale - 1)
        draw.rectangle(box, fill=_colour(attrib["fill"]))
        return
    colour = _colour(attrib.get("stroke", "#000"))
    for x0, x1, y in _runs(d):
        top = (y - 0.5) * scale
        draw.rectangle(
            (round(x0 * scale), round(top), round(x1 * scale) - 1, round(top + scale) - 1),
            fill=colour,
        )
