"""Local QR rendering: PNG and SVG of a ticket's url (segno), optionally with a logo, and
posters (the code on a campaign's artwork with captions, Pillow, at print resolution).

WeChat's ``showqrcode`` image is a fixed JPEG; the ``url`` of a ticket is exactly what it
encodes, so wxqr draws codes itself in any size and colour, and they scan the same.
"""

from ._artwork import CheckedImage, ImageBounds, ImageRefused, checked_image, decode_rgb
from ._batch import BatchSpec, PosterJob, render_batch
from ._fonts import FONT_SEARCH_ORDER, FontNotFound, find_cjk_font
from ._layout import PLACEHOLDERS, Caption, CodeBox, PosterLayout
from ._options import MAX_LOGO_RATIO, ErrorLevel, RenderOptions
from ._poster import (
    POSTER_FORMATS,
    REFERENCE_URL,
    CodeLook,
    PosterArt,
    check_code_box,
    encode,
    render_poster,
    sample_values,
    scaled_preview,
)
from ._render import render_png, render_svg
from ._scannable import (
    MAX_LOGO_AREA,
    MIN_CONTRAST,
    MIN_MODULE_PX,
    PRINT_DPI,
    StyleRefused,
    check_colours,
    check_logo,
    contrast_ratio,
)

__all__ = [
    "FONT_SEARCH_ORDER",
    "MAX_LOGO_AREA",
    "MAX_LOGO_RATIO",
    "MIN_CONTRAST",
    "MIN_MODULE_PX",
    "PLACEHOLDERS",
    "POSTER_FORMATS",
    "PRINT_DPI",
    "REFERENCE_URL",
    "BatchSpec",
    "Caption",
    "CheckedImage",
    "CodeBox",
    "CodeLook",
    "ErrorLevel",
    "FontNotFound",
    "ImageBounds",
    "ImageRefused",
    "PosterArt",
    "PosterJob",
    "PosterLayout",
    "RenderOptions",
    "StyleRefused",
    "check_code_box",
    "check_colours",
    "check_logo",
    "checked_image",
    "contrast_ratio",
    "decode_rgb",
    "encode",
    "find_cjk_font",
    "render_batch",
    "render_png",
    "render_poster",
    "render_svg",
    "sample_values",
    "scaled_preview",
]
