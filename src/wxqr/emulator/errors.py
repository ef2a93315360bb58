"""WeChat's error answers: ``{"errcode": N, "errmsg": "... rid: ..."}`` with HTTP 200."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["ERRMSG", "WeChatError", "error_body"]

ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40032: "invalid openid list size, at most 50",
    40053: "invalid action info",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    45029: "qrcode count out of limit",
    45056: "too many tags now, no need to add new",
    45057: "can't delete the tag that has too many fans",
    45058: "can't modify sys tag",
    45059: "too many tag now, no need to add new",
    45157: "invalid tag name",
    45158: "tag name too long",
    45159: "invalid tag id",
    47001: "data format error",
    49003: "not match openid and appid",
    61500: "date format error",
    61501: "date range error",
    40097: "invalid args",
    76021: "cgi_path not found, please check",
}


def _rid() -> str:
    raw = os.urandom(12).hex()
    return f"{raw[:8]}-{raw[8:16]}-{raw[16:24]}"


def error_body(code: int, detail: str = "") -> dict[str, Any]:
    """The JSON WeChat answers for ``code`` (a fresh ``rid`` each time, like WeChat)."""
    message = ERRMSG.get(code, "unknown error")
    if detail:
        message = f"{message}: {detail}"
    return {"errcode": code, "errmsg": f"{message} rid: {_rid()}"}


class WeChatError(Exception):
    """Raised inside the emulator to answer a WeChat errcode."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(f"errcode {code}")
        self.code = code
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.detail)
