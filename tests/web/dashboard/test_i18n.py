"""The dashboard in Chinese and English: the catalogs hold every string of the templates
(and of the Python that makes page messages), each translated; no text of a template is
left outside ``_()``; the locale follows ``Accept-Language`` and the language switch."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.support.stack import Stack
from wxqr.i18n import LOCALE_DIR, LOCALES, negotiate

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "src" / "wxqr" / "web" / "dashboard" / "templates"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
PASSWORD = "correct horse battery"


def _extracted() -> set[str]:
    """Every msgid of the sources, extracted with the project's own babel.cfg."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"_": None, "N_": None, "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str) -> dict[str, tuple[str, bool]]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {m.id: (str(m.string), m.fuzzy) for m in catalog if m.id and isinstance(m.id, str)}


def test_every_string_of_the_templates_is_in_the_chinese_catalog_translated() -> None:
    extracted = _extracted()
    assert "Log in" in extracted  # a template string: the extraction reads the templates
    assert "That user name or password is not right." in extracted  # and the Python's N_() messages
    catalog = _catalog("zh_CN")
    missing = sorted(extracted - catalog.keys())
    assert not missing, f"not in the zh_CN catalog (run tools/update_catalogs.py): {missing}"
    untranslated = sorted(m for m in extracted if not catalog[m][0] or catalog[m][1])
    assert not untranslated, f"untranslated or fuzzy in zh_CN: {untranslated}"
    obsolete = sorted(catalog.keys() - extracted)
    assert not obsolete, f"in the zh_CN catalog but in no template: {obsolete}"
    for msgid in extracted:
        assert set(PLACEHOLDER.findall(catalog[msgid][0])) == set(PLACEHOLDER.findall(msgid)), msgid


class _TextCollector(HTMLParser):
    """The text a reader sees (text nodes and the attributes read aloud or shown)."""

    SHOWN_ATTRIBUTES = ("placeholder", "aria-label", "alt", "title")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.texts.extend(v or "" for k, v in attrs if k in self.SHOWN_ATTRIBUTES)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.texts.append(data)


# Words that are the same in every language: names and formats.
NOT_WORDS = {"wxqr", "p50", "p99", "ms", "English", "https", "shop", "example", "com", "hook"}
# Example values in placeholders: a time zone name and a key name.
NOT_WORDS |= {"Asia", "Shanghai", "crm", "sync"}


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_text_of_a_template_is_left_outside_gettext(template: str) -> None:
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    # Jinja's own syntax goes first: expressions, statements and comments say nothing.
    bare = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", source, flags=re.S)
    collector = _TextCollector()
    collector.feed(bare)
    words = {
        word
        for text in collector.texts
        for word in re.findall(r"[A-Za-z][A-Za-z0-9]*", text)
        if word not in NOT_WORDS
    }
    assert not words, f"{template}: text outside _(): {sorted(words)}"


def test_locale_negotiation() -> None:
    assert negotiate(None, "zh-CN,zh;q=0.9,en;q=0.8").locale == "zh_CN"
    assert negotiate(None, "en-US,en;q=0.9,zh-CN;q=0.8").locale == "en"
    assert negotiate(None, "fr-FR, zh;q=0.5").locale == "zh_CN"
    assert negotiate(None, "zh-TW").locale == "en"  # no Traditional catalog: the source
    assert negotiate("en", "zh-CN").locale == "en"  # the switch wins
    assert negotiate("xx", "zh-CN").locale == "zh_CN"  # an unknown choice is ignored
    assert negotiate(None, None).locale == "en"
    assert negotiate(None, "zh;q=0, en").locale == "en"
    assert set(LOCALES) == {"zh_CN", "en"}
    zh = negotiate("zh_CN", None)
    assert zh.gettext("Scans") == "扫码次数"
    assert zh.number(1234567) == "1,234,567"
    assert zh.percent(0.125) == "12.5%"


@pytest.fixture
def browser_like(stack: Stack) -> httpx.Client:
    stack.ws.admin.set_password(PASSWORD)
    return httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=30)


def test_pages_in_chinese_by_accept_language_and_by_the_switch(
    stack: Stack, browser_like: httpx.Client
) -> None:
    with stack.client() as api:
        api.post("/api/v1/channels", json={"name": "地推海报", "code": {}}).raise_for_status()
    with browser_like as client:
        zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
        login_page = client.get("/dashboard/login", headers=zh)
        assert '<html lang="zh-CN">' in login_page.text
        assert "用户名" in login_page.text
        assert login_page.headers["content-language"] == "zh-CN"
        wrong = client.post("/dashboard/login", data={"password": "guess"}, headers=zh)
        assert wrong.status_code == 401
        assert "密码不正确" in wrong.text

        client.post("/dashboard/login", data={"password": PASSWORD})
        english = client.get("/dashboard/channels")
        assert '<html lang="en">' in english.text
        assert "Whole account" in english.text
        assert "地推海报" in english.text

        switched = client.get("/dashboard/language", params={"to": "zh_CN", "next": "/dashboard/"})
        assert switched.status_code == 303
        assert switched.headers["location"] == "/dashboard/"
        chinese = client.get("/dashboard/channels")  # remembered without any Accept-Language
        assert "整个公众号" in chinese.text
        assert "Whole account" not in chinese.text
        assert "地推海报" in chinese.text

        away = client.get("/dashboard/language", params={"to": "en", "next": "https://evil.test/"})
        assert away.headers["location"] == "/dashboard/"
        assert "Whole account" in client.get("/dashboard/channels").text


def test_the_catalog_compiles_and_a_checkout_without_mo_files_still_speaks_chinese(
    tmp_path: Path,
) -> None:
    import gettext
    import io
    import shutil

    from wxqr import i18n

    po = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    compiled = gettext.GNUTranslations(io.BytesIO(i18n.compile_catalog(po)))
    assert compiled.gettext("Overview") == "概览"
    # A fresh clone has no .mo: the .po is compiled in memory when first used.
    copy = tmp_path / "zh_CN" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    shutil.copyfile(po, copy / "messages.po")
    original = i18n.LOCALE_DIR
    i18n._translations.cache_clear()
    try:
        i18n.LOCALE_DIR = tmp_path  # type: ignore[misc]
        assert not (copy / "messages.mo").exists()
        assert i18n.Language("zh_CN").gettext("Overview") == "概览"
    finally:
        i18n.LOCALE_DIR = original  # type: ignore[misc]
        i18n._translations.cache_clear()
