"""Local QR rendering: PNG and SVG of a ticket's url (segno), optionally with a logo.

WeChat's ``showqrcode`` image is a fixed JPEG; the ``url`` of a ticket is exactly what it
encodes, so wxqr draws codes itself in any size and colour, and they scan the same.
"""

from ._options import MAX_LOGO_RATIO, ErrorLevel, RenderOptions
from ._render import render_png, render_svg

__all__ = ["MAX_LOGO_RATIO", "ErrorLevel", "RenderOptions", "render_png", "render_svg"]
