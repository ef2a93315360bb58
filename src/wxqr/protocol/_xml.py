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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NoReturn
from xml.parsers import expat

from ._errors import MalformedPush

__all__ = ["DEFAULT_MAX_BYTES", "parse_fields"]

DEFAULT_MAX_BYTES = 64 * 1024


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


class _Frame:
    __slots__ = ("has_children", "name", "seen", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.text: list[str] = []
        self.has_children = False
        self.seen: dict[str, int] = {}


def parse_fields(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Mapping[str, str]:
    """Parse a ``<xml>…</xml>`` document into a read-only mapping of its fields."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > max_bytes:
        raise MalformedPush(f"body is larger than the {max_bytes}-byte limit")
    if not raw.strip():
        raise MalformedPush("body is empty")

    fields: dict[str, str] = {}
    stack: list[_Frame] = []
    roots: list[str] = []

    def start(tag: str, _attrs: object) -> None:
        if ":" in tag:
            raise _Forbidden("namespaced element")
        if not stack:
            roots.append(tag)
            stack.append(_Frame(""))
            return
        parent = stack[-1]
        parent.has_children = True
        count = parent.seen.get(tag, 0)
        parent.seen[tag] = count + 1
        name = tag if count == 0 else f"{tag}[{count}]"
        stack.append(_Frame(f"{parent.name}.{name}" if parent.name else name))

    def end(_tag: str) -> None:
        frame = stack.pop()
        if stack and not frame.has_children:
            fields[frame.name] = "".join(frame.text).strip()

    def text(data: str) -> None:
        # expat reports character data only inside the root element.
        stack[-1].text.append(data)

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
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
