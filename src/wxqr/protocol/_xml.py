"""Hardened parsing of WeChat's flat XML documents into string fields.

The parser is the C expat that ships with Python, driven directly (no ElementTree tree is
built), with the same hardening defusedxml applies: any DTD, entity declaration or
external reference is refused as soon as expat reports it, parameter entities are never
parsed, nothing is fetched, and a size limit is checked before the parser sees a byte.
Undeclared entities are a well-formedness error in expat, so "billion laughs" and XXE
cannot expand. Driving expat directly keeps a push parse at a few microseconds, which
matters on the webhook's hot path.

Nested elements (``<ScanCodeInfo><ScanType>``) are kept with dotted names
(``ScanCodeInfo.ScanType``); repeated ones get ``[i]`` suffixes. Only the text of leaf
elements is kept, stripped of surrounding whitespace.

Two more limits keep a hostile document cheap: nesting deeper than :data:`MAX_DEPTH`
levels is refused at the first element past it (WeChat's pushes are three levels deep at
most, and a 63 KB document nested 9,000 levels cost ~85 MB of dotted names), and the body
is always read as UTF-8, WeChat's only encoding: a declared ``encoding="GBK"`` is ignored
(so GBK bytes are not well-formed, never a 500 from expat's "multi-byte encodings are not
supported") and a UTF-16 byte-order mark is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NoReturn
from xml.parsers import expat

from ._errors import MalformedPush

__all__ = ["DEFAULT_MAX_BYTES", "MAX_DEPTH", "parse_fields"]

DEFAULT_MAX_BYTES = 64 * 1024
#: Deepest element nesting accepted, ``<xml>`` counting as level 1.
MAX_DEPTH = 32

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class _Forbidden(Exception):
    """Raised from an expat handler to stop at a forbidden construct."""


def _forbid(construct: str) -> Callable[..., NoReturn]:
    def handler(*_args: object) -> NoReturn:
        raise _Forbidden(construct)

    return handler


# Made once: the handlers hold no state, and building them per parse costs a microsecond.
_ON_DOCTYPE = _forbid("DTD")
_ON_ENTITY_DECL = _forbid("entity declaration")
_ON_UNPARSED_ENTITY = _forbid("unparsed entity")
_ON_EXTERNAL_ENTITY = _forbid("external entity")


def parse_fields(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Mapping[str, str]:
    """Parse a ``<xml>…</xml>`` document into a read-only mapping of its fields."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > max_bytes:
        raise MalformedPush(f"body is larger than the {max_bytes}-byte limit")
    if not raw.strip():
        raise MalformedPush("body is empty")
    if raw.startswith(_UTF16_BOMS):
        raise MalformedPush("body must be UTF-8, got a UTF-16 byte-order mark")

    # The handlers are called a few dozen times a push, so they keep little state: the
    # dotted names of the open elements, the text seen since the last start tag, and the
    # depth of the element opened last (a leaf is an element closed with no child opened
    # inside it, so only the text since its own start tag is its text).
    fields: dict[str, str] = {}
    open_names: list[str] = []
    counts: dict[str, int] = {}
    text: list[str] = []
    roots: list[str] = []
    leaf_depth = -1

    def start(tag: str, _attrs: object) -> None:
        nonlocal leaf_depth
        if ":" in tag:
            raise _Forbidden("namespaced element")
        if open_names:
            if len(open_names) >= MAX_DEPTH:
                raise _Forbidden(f"element nested deeper than {MAX_DEPTH} levels")
            parent = open_names[-1]
            name = f"{parent}.{tag}" if parent else tag
            count = counts.get(name, 0)
            counts[name] = count + 1
            open_names.append(f"{name}[{count}]" if count else name)
        else:
            roots.append(tag)
            open_names.append("")
        leaf_depth = len(open_names)
        text.clear()

    def end(_tag: str) -> None:
        nonlocal leaf_depth
        depth = len(open_names)
        name = open_names.pop()
        if depth == leaf_depth and depth > 1:
            fields[name] = "".join(text).strip()
        leaf_depth = -1

    append_text = text.append

    # The encoding argument overrides the document's declaration: UTF-8, whatever it says.
    parser = expat.ParserCreate("UTF-8")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = append_text
    parser.StartDoctypeDeclHandler = _ON_DOCTYPE
    parser.EntityDeclHandler = _ON_ENTITY_DECL
    parser.UnparsedEntityDeclHandler = _ON_UNPARSED_ENTITY
    parser.ExternalEntityRefHandler = _ON_EXTERNAL_ENTITY
    try:
        parser.Parse(raw, True)
    except _Forbidden as exc:
        raise MalformedPush(f"forbidden XML construct: {exc}") from None
    except expat.ExpatError as exc:
        raise MalformedPush(f"not well-formed XML: {exc}") from None
    if roots[0] != "xml":
        raise MalformedPush(f"root element must be <xml>, got <{roots[0]}>")
    return MappingProxyType(fields)
