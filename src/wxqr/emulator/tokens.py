"""Access tokens: ``cgi-bin/token`` (classic) and ``cgi-bin/stable_token``.

* classic: every call issues a new token; the previous one stays valid for the overlap
  window (300 s), then answers 40001 "not latest".
* stable: normal mode returns the current token until it nears expiry, then a new one
  (the old one lives out its lifetime); ``force_refresh`` issues a new one at once (the
  old one lives ``overlap`` more seconds), at most N a day and M seconds apart.
* The two kinds never affect each other. An expired token answers 42001, an unknown one
  40001, a malformed one 40014, none at all 41001.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from .clock import china_date
from .errors import WeChatError

__all__ = ["IssuedToken", "TokenBook", "TokenKind", "TokenRecord", "TokenRules"]

_WELL_FORMED = re.compile(r"[0-9]{2,3}_[A-Za-z0-9_-]{64,600}")
_KEEP_EXPIRED = 86_400


class TokenKind(StrEnum):
    CLASSIC = "classic"
    STABLE = "stable"


@dataclass
class TokenRecord:
    value: str = field(repr=False)
    appid: str
    kind: TokenKind
    issued_at: float
    expires_at: float
    revoked_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "appid": self.appid,
            "kind": self.kind.value,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenRecord:
        return cls(
            value=str(data["value"]),
            appid=str(data["appid"]),
            kind=TokenKind(data["kind"]),
            issued_at=float(data["issued_at"]),
            expires_at=float(data["expires_at"]),
            revoked_at=None if data.get("revoked_at") is None else float(data["revoked_at"]),
        )


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """What the token endpoints answer."""

    access_token: str = field(repr=False)
    expires_in: int

    def to_json(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "expires_in": self.expires_in}


@dataclass(frozen=True, slots=True)
class TokenRules:
    expires_in: int
    overlap: int
    renew_before: int
    force_daily: int
    force_interval: int


def _new_value() -> str:
    return f"{secrets.randbelow(90) + 10}_{secrets.token_urlsafe(96)}"


@dataclass
class _ForceRefresh:
    day: date | None = None
    count: int = 0
    last: float | None = None


class TokenBook:
    """Every token the emulator has issued, for all accounts."""

    def __init__(self) -> None:
        self._by_value: dict[str, TokenRecord] = {}
        self._current: dict[tuple[str, TokenKind], TokenRecord] = {}
        self._force: dict[str, _ForceRefresh] = {}

    def clear(self) -> None:
        self._by_value.clear()
        self._current.clear()
        self._force.clear()

    def _issue(self, appid: str, kind: TokenKind, now: float, rules: TokenRules) -> TokenRecord:
        self._prune(now)
        record = TokenRecord(_new_value(), appid, kind, now, now + rules.expires_in)
        self._by_value[record.value] = record
        self._current[(appid, kind)] = record
        return record

    def _prune(self, now: float) -> None:
        stale = [v for v, r in self._by_value.items() if r.expires_at + _KEEP_EXPIRED < now]
        for value in stale:
            del self._by_value[value]

    @staticmethod
    def _answer(record: TokenRecord, now: float) -> IssuedToken:
        return IssuedToken(record.value, max(0, int(record.expires_at - now)))

    def issue_classic(self, appid: str, now: float, rules: TokenRules) -> IssuedToken:
        """A new classic token; the previous one is cut to ``overlap`` more seconds."""
        previous = self._current.get((appid, TokenKind.CLASSIC))
        if previous is not None:
            _cut(previous, now + rules.overlap)
        return self._answer(self._issue(appid, TokenKind.CLASSIC, now, rules), now)

    def issue_stable(
        self, appid: str, now: float, rules: TokenRules, *, force_refresh: bool
    ) -> IssuedToken:
        current = self._current.get((appid, TokenKind.STABLE))
        if force_refresh:
            self._count_force(appid, now, rules)
            if current is not None:
                _cut(current, now + rules.overlap)
            return self._answer(self._issue(appid, TokenKind.STABLE, now, rules), now)
        renew_before = min(rules.renew_before, rules.expires_in // 2)
        fresh = current is not None and current.expires_at - now > renew_before
        if current is not None and fresh and current.revoked_at is None:
            return self._answer(current, now)
        return self._answer(self._issue(appid, TokenKind.STABLE, now, rules), now)

    def _count_force(self, appid: str, now: float, rules: TokenRules) -> None:
        state = self._force.setdefault(appid, _ForceRefresh())
        today = china_date(now)
        if state.day != today:
            state.day, state.count = today, 0
        if state.count >= rules.force_daily:
            raise WeChatError(45009, "force_refresh is limited to a few calls a day")
        if state.last is not None and now - state.last < rules.force_interval:
            raise WeChatError(45011)
        state.count += 1
        state.last = now

    def check(self, value: str | None, now: float) -> str:
        """The appid a token belongs to, or raise the errcode WeChat would answer."""
        if not value:
            raise WeChatError(41001)
        record = self._by_value.get(value)
        if record is None:
            raise WeChatError(40001 if _WELL_FORMED.fullmatch(value) else 40014)
        if record.revoked_at is not None and now >= record.revoked_at:
            raise WeChatError(40001)
        if now >= record.expires_at:
            raise WeChatError(42001)
        return record.appid

    def records(self) -> list[TokenRecord]:
        return list(self._by_value.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "tokens": [r.to_json() for r in self._by_value.values()],
            "current": [r.value for r in self._current.values()],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.clear()
        for item in data.get("tokens", []):
            record = TokenRecord.from_json(item)
            self._by_value[record.value] = record
        for value in data.get("current", []):
            current = self._by_value.get(value)
            if current is not None:
                self._current[(current.appid, current.kind)] = current


def _cut(record: TokenRecord, until: float) -> None:
    """Shorten a token's validity to ``until`` (never lengthen it)."""
    if record.revoked_at is None or until < record.revoked_at:
        record.revoked_at = until
