"""wxqr's languages: gettext catalogs (Babel) for the dashboard, Chinese first, English too.

The catalogs live in ``src/wxqr/locale/<locale>/LC_MESSAGES/messages.po``; the build
(``hatch_build.py``) compiles them into ``.mo`` files, which are never committed. A checkout
whose ``.mo`` is missing or older than its ``.po`` (a fresh clone run in place) compiles the
catalog in memory instead, so the same strings show either way.

English is the source language: its ``msgid`` strings are the English text, so ``en`` needs
no catalog. :func:`negotiate` picks the locale from an explicit choice (the language switch)
and then from ``Accept-Language``.
"""

from __future__ import annotations

import gettext as _gettext
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Final

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_DIR",
    "N_",
    "Language",
    "Msg",
    "language",
    "negotiate",
]

LOCALE_DIR: Final = Path(__file__).parent / "locale"
DOMAIN: Final = "messages"
# The locales the dashboard speaks, in the order the switch shows them.
LOCALES: Final = ("zh_CN", "en")
# Without an Accept-Language the dashboard answers in English (the source language).
DEFAULT_LOCALE: Final = "en"


@dataclass(frozen=True)
class Msg:
    """A message to translate later, where the locale is known (at rendering)."""

    msgid: str
    params: dict[str, object] = field(default_factory=dict)

    def render(self, lang: Language) -> str:
        text = lang.gettext(self.msgid)
        return text % self.params if self.params else text


def N_(msgid: str, **params: object) -> Msg:
    """Mark ``msgid`` for extraction; it is translated when the page is rendered."""
    return Msg(msgid, params)


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalog(po: Path) -> bytes:
    """The ``.mo`` bytes of one ``.po`` file (the build hook writes them next to it)."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


@cache
def _translations(locale: str) -> _gettext.NullTranslations:
    po = _po_path(locale)
    if not po.is_file():
        return _gettext.NullTranslations()
    mo = po.with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        data = mo.read_bytes()
    else:
        data = compile_catalog(po)
    return _gettext.GNUTranslations(io.BytesIO(data))


@dataclass(frozen=True)
class Language:
    """One locale's translations and formats (dates, numbers, percentages)."""

    locale: str

    @property
    def tag(self) -> str:
        """The BCP 47 tag for ``<html lang>`` (``zh-CN``)."""
        return self.locale.replace("_", "-")

    @property
    def babel(self) -> Locale:
        return Locale.parse(self.locale)

    def gettext(self, message: str) -> str:
        return _translations(self.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _translations(self.locale).ngettext(singular, plural, n)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float, digits: int = 1) -> str:
        return format_percent(value, format=f"#,##0.{'0' * digits}%", locale=self.locale)

    def date(self, value: date, style: str = "medium") -> str:
        return format_date(value, format=style, locale=self.locale)

    def datetime(self, value: datetime, style: str = "medium") -> str:
        return format_datetime(value, format=style, locale=self.locale)


@cache
def language(locale: str) -> Language:
    """The :class:`Language` of one of :data:`LOCALES` (else the default)."""
    return Language(locale if locale in LOCALES else DEFAULT_LOCALE)


def _accepted(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, best first (``q=0`` dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(choice: str | None, accept_language: str | None) -> Language:
    """The locale of a request: the user's choice if it is one we speak, else the first
    ``Accept-Language`` tag we speak (any ``zh`` but Traditional means ``zh_CN``)."""
    if choice in LOCALES:
        return language(choice)
    for tag in _accepted(accept_language or "")[:16]:
        lowered = tag.lower().replace("_", "-")
        if lowered.startswith("zh") and not any(
            part in lowered for part in ("-tw", "-hk", "-mo", "-hant")
        ):
            return language("zh_CN")
        if lowered == "en" or lowered.startswith("en-") or lowered == "*":
            return language("en")
    return language(DEFAULT_LOCALE)
