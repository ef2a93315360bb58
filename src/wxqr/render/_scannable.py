"""Rules that keep a styled code decodable, checked before anything is drawn.

A scanner binarises the image: the dark modules must be clearly darker than the light
ones (contrast ratio as WCAG defines it, and never inverted); a logo hides modules that
only the error correction can restore, so its area is bounded by the level; and a
printed module must be wide enough for a phone camera to resolve.
"""

from __future__ import annotations

from PIL import ImageColor

__all__ = [
    "MAX_LOGO_AREA",
    "MIN_CONTRAST",
    "MIN_MODULE_PX",
    "PRINT_DPI",
    "StyleRefused",
    "check_colours",
    "check_logo",
    "check_module_size",
    "contrast_ratio",
]

#: Dark against light at least this contrast ratio (1..21; black on white is 21, WeChat's
#: green #07c160 on white 2.4, mid grey #999999 on white 2.8, #cccccc on white 1.6).
MIN_CONTRAST = 2.0
#: The fraction of the symbol's area a logo may cover at each error level (the level
#: restores about 7/15/25/30 %; a third of that is left for wear, glare and print).
MAX_LOGO_AREA = {"L": 0.0, "M": 0.04, "Q": 0.07, "H": 0.09}
#: Posters are rendered for print at this resolution.
PRINT_DPI = 300
#: A printed module narrower than this many pixels at PRINT_DPI (0.5 mm) is refused.
MIN_MODULE_PX = 6


class StyleRefused(ValueError):
    """A style or layout that would make the code hard or impossible to scan."""


def _luminance(colour: str) -> float:
    rgb = ImageColor.getrgb(colour)[:3]

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(dark: str, light: str) -> float:
    """WCAG contrast ratio of two colours (1 = same, 21 = black on white)."""
    a, b = _luminance(dark), _luminance(light)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def check_colours(dark: str, light: str | None) -> None:
    """Refuse inverted or low-contrast colours (``light=None``: transparent, whatever the
    code is put on must be light; only the dark colour is checked, against white)."""
    background = light or "#ffffff"
    if _luminance(dark) >= _luminance(background):
        raise StyleRefused(
            f"dark {dark} is not darker than light {background}: inverted codes are not "
            "read by every scanner"
        )
    ratio = contrast_ratio(dark, background)
    if ratio < MIN_CONTRAST:
        raise StyleRefused(
            f"dark {dark} on light {background} has a contrast ratio of {ratio:.1f}: "
            f"at least {MIN_CONTRAST:g} is needed for scanners to tell the modules apart"
        )


def check_logo(logo_ratio: float, error: str) -> None:
    """Refuse a logo covering more of the symbol than ``error`` can restore."""
    level = error.upper()
    area = logo_ratio * logo_ratio
    allowed = MAX_LOGO_AREA[level]
    if area > allowed:
        if allowed == 0:
            raise StyleRefused(f"error level {level} leaves no room for a logo: use Q or H")
        raise StyleRefused(
            f"a logo {logo_ratio:.0%} of the symbol's width covers {area:.1%} of it: error "
            f"level {level} allows at most {allowed:.0%}"
        )


def check_module_size(box_px: int, modules: int, *, minimum: int = MIN_MODULE_PX) -> int:
    """The pixels per module of a ``modules``-wide symbol (quiet zone included) in a
    ``box_px`` box, or :class:`StyleRefused` saying why it is too small."""
    module = box_px // modules
    if module < minimum:
        mm = module * 25.4 / PRINT_DPI
        raise StyleRefused(
            f"the code box of {box_px} px holds a symbol of {modules} modules (quiet zone "
            f"included): {module} px per module at {PRINT_DPI} dpi ({mm:.2f} mm), below the "
            f"minimum of {minimum} px ({minimum * 25.4 / PRINT_DPI:.2f} mm); make the box at "
            f"least {modules * minimum} px"
        )
    return module
