"""The dashboard's Jinja2 environment (autoescaped, gettext) and the HTML response helper.

Every visible string of a template goes through ``_()`` (``jinja2.ext.i18n``); the locale of
each response comes from :func:`language_of` (the language switch's cookie, else
``Accept-Language``). Messages made in Python are :class:`wxqr.i18n.Msg` objects, translated
here, when the locale is known.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from wxqr._version import __version__
from wxqr.i18n import LOCALES, Language, Msg, language, negotiate

__all__ = ["LANG_COOKIE", "SECURITY_HEADERS", "language_of", "page"]

LANG_COOKIE = "wxqr_lang"

# The language of the page being rendered (set by page() around the render only).
_rendering: ContextVar[Language | None] = ContextVar("wxqr_dashboard_language", default=None)


def _lang() -> Language:
    return _rendering.get() or language("en")


def _gettext(message: str) -> str:
    return _lang().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _lang().ngettext(singular, plural, n)


_env = Environment(
    loader=PackageLoader("wxqr.web.dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


def _when(seconds: int | None, timezone: str = "UTC") -> str:
    if seconds is None:
        return "—"
    moment = datetime.fromtimestamp(seconds, UTC).astimezone(ZoneInfo(timezone))
    return f"{_lang().datetime(moment, 'short')} {timezone}"


def _number(value: int | float) -> str:
    return _lang().number(value)


def _percent(value: float | None) -> str:
    return "—" if value is None else _lang().percent(value)


def _day(value: date | str) -> str:
    """A day in the locale's words (``2026年11月29日``, ``Nov 29, 2026``); ISO text too."""
    return _lang().date(date.fromisoformat(value) if isinstance(value, str) else value, "medium")


_FILTERS: dict[str, Callable[..., str]] = {
    "when": _when,
    "number": _number,
    "percent": _percent,
    "day": _day,
}
_env.filters.update(_FILTERS)

# Everything the dashboard loads comes from wxqr itself: no CDN, no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def language_of(request: Request) -> Language:
    """The request's language: the switch's cookie, else ``Accept-Language``."""
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    for key in ("error", "notice"):
        if isinstance(context.get(key), Msg):
            context[key] = context[key].render(lang)
    token = _rendering.set(lang)
    try:
        template = _env.get_template(name)
        html = template.render(
            request=request, version=__version__, lang=lang, locales=LOCALES, **context
        )
    finally:
        _rendering.reset(token)
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = lang.tag
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
