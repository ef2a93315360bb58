"""Hardened parsing of WeChat's flat XML documents into string fields.

No DTD, no entities, no external references, no network, and a size limit checked
before the parser sees a byte. Nested elements (``<ScanCodeInfo><ScanType>``) are kept
with dotted names (``ScanCodeInfo.ScanType``); repeated ones get ``[i]`` suffixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ._errors import MalformedPush

__all__ = ["DEFAULT_MAX_BYTES", "parse_fields"]

DEFAULT_MAX_BYTES = 64 * 1024


def _flatten(element: Element, prefix: str, into: dict[str, str]) -> None:
    seen: dict[str, int] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or "{" in tag:
            raise MalformedPush("unexpected XML node in a WeChat document")
        count = seen.get(tag, 0)
        seen[tag] = count + 1
        name = f"{prefix}{tag}" if count == 0 else f"{prefix}{tag}[{count}]"
        if len(child):
            _flatten(child, name + ".", into)
        else:
            into[name] = (child.text or "").strip()


def parse_fields(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Mapping[str, str]:
    """Parse a ``<xml>…</xml>`` document into a read-only mapping of its fields."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > max_bytes:
        raise MalformedPush(f"body is larger than the {max_bytes}-byte limit")
    if not raw.strip():
        raise MalformedPush("body is empty")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedPush(f"forbidden XML construct: {type(exc).__name__}") from None
    except (ParseError, ValueError, SyntaxError) as exc:
        raise MalformedPush(f"not well-formed XML: {exc}") from None
    if root.tag != "xml":
        raise MalformedPush(f"root element must be <xml>, got <{root.tag}>")
    fields: dict[str, str] = {}
    _flatten(root, "", fields)
    return MappingProxyType(fields)
