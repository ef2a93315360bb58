"""Accounts over the control API (secrets in, never out) and the URL-verification handshake."""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

import httpx

from wxqr.protocol import signature

from .config import AccountConfig

__all__ = [
    "account_from_json",
    "account_to_json",
    "account_to_state",
    "update_account",
    "verify_push_url",
]

_FIELDS = ("appid", "secret", "token", "aes_key", "mode", "push_url", "original_id")
_UPDATABLE = ("secret", "token", "aes_key", "mode", "push_url", "original_id")


def account_from_json(data: dict[str, Any]) -> AccountConfig:
    """An account from JSON (``appid``, ``secret``, ``token`` required)."""
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ValueError(f"unknown fields {', '.join(unknown)}")
    values = {k: data[k] for k in _FIELDS if data.get(k) is not None}
    return AccountConfig(**values)


def account_to_json(account: AccountConfig) -> dict[str, Any]:
    """What the control API shows of an account: no secret, token or AES key."""
    return {
        "appid": account.appid,
        "original_id": account.original_id,
        "mode": account.mode.value,
        "push_url": account.push_url,
        "has_aes_key": account.aes_key is not None,
    }


def account_to_state(account: AccountConfig) -> dict[str, Any]:
    """The whole account, secrets included, for the emulator's own state file."""
    return {
        "appid": account.appid,
        "secret": account.secret,
        "token": account.token,
        "aes_key": account.aes_key,
        "mode": account.mode.value,
        "push_url": account.push_url,
        "original_id": account.original_id,
    }


def update_account(account: AccountConfig, data: dict[str, Any]) -> AccountConfig:
    """``account`` with the given fields replaced (``push_url: null`` removes it)."""
    unknown = sorted(set(data) - set(_UPDATABLE))
    if unknown:
        raise ValueError(f"cannot change {', '.join(unknown)}")
    return dataclasses.replace(account, **data)


async def verify_push_url(
    client: httpx.AsyncClient, account: AccountConfig, wait: float
) -> dict[str, Any]:
    """Do what WeChat does when the push URL is saved: GET it with ``signature``,
    ``timestamp``, ``nonce`` and ``echostr``; it passes when the body is ``echostr``."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    echostr = secrets.token_hex(8)
    params = {
        "signature": signature(account.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    assert account.push_url is not None
    try:
        response = await client.get(account.push_url, params=params, timeout=wait)
    except httpx.HTTPError as exc:
        return {"ok": False, "status": None, "error": type(exc).__name__}
    ok = response.status_code == 200 and response.text.strip() == echostr
    return {"ok": ok, "status": response.status_code, "error": None if ok else "no echostr"}
