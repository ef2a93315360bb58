"""Log lines of a wxqr process: timestamps, a request id, three formats (``WXQR_LOG_FORMAT``).

* ``text`` — ``2026-11-29T09:41:02.123Z INFO wxqr.web.app [req=3f2a…] message``
* ``logfmt`` — ``ts=… level=info logger=wxqr.web.app request_id=3f2a… msg="message"``
* ``json`` — one JSON object a line: ``{"ts": …, "level": …, "logger": …, "request_id": …,
  "msg": …}`` (plus ``exc`` with the traceback)

Timestamps are UTC, ISO 8601 with milliseconds. The request id is the one of the HTTP
request being served (:data:`request_id`, set by :mod:`wxqr.web.observe`), so every line a
request causes can be found together; nginx passes its ``$request_id`` in ``X-Request-ID``.
Extra fields given with ``log.info(..., extra={"fields": {...}})`` are added as keys
(``logfmt``/``json``) or ``key=value`` pairs (``text``), as the access log does.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["LogFormatter", "configure_logging", "request_id"]

#: The id of the HTTP request the current task serves ("" outside a request).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("wxqr_request_id", default="")


def _timestamp(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def _logfmt_value(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\t'):
        return text
    return json.dumps(text, ensure_ascii=False)


class LogFormatter(logging.Formatter):
    """One line per record in ``text``, ``logfmt`` or ``json`` (see the module docs)."""

    def __init__(self, style_name: str = "text") -> None:
        super().__init__()
        if style_name not in ("text", "logfmt", "json"):
            raise ValueError(f"unknown log format {style_name!r}")
        self.style_name = style_name

    def _fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        rid = request_id.get()
        if rid:
            fields["request_id"] = rid
        fields["msg"] = record.getMessage()
        extra = getattr(record, "fields", None)
        if isinstance(extra, Mapping):
            fields.update({str(k): v for k, v in extra.items()})
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return fields

    def format(self, record: logging.LogRecord) -> str:
        fields = self._fields(record)
        if self.style_name == "json":
            return json.dumps(fields, ensure_ascii=False, default=str)
        if self.style_name == "logfmt":
            return " ".join(f"{k}={_logfmt_value(v)}" for k, v in fields.items())
        ts, level, logger, msg = (fields.pop(k) for k in ("ts", "level", "logger", "msg"))
        exc = fields.pop("exc", None)
        rid = fields.pop("request_id", None)
        parts = [ts, level.upper(), logger]
        if rid:
            parts.append(f"[req={rid}]")
        parts.append(msg)
        parts.extend(f"{k}={_logfmt_value(v)}" for k, v in fields.items())
        line = " ".join(parts)
        return f"{line}\n{exc}" if exc else line


def configure_logging(log_format: str = "text", level: str | int = "INFO") -> None:
    """Send every logger's records (wxqr's and uvicorn's) to stderr in ``log_format``.

    Replaces the root logger's handlers; uvicorn's loggers propagate to it (``wxqr serve``
    runs uvicorn without its own logging configuration)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # uvicorn's own access log stays as uvicorn sets it (off: wxqr.access replaces it).
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
