"""The running emulator's state: accounts, settings, clock, tokens, codes, users, logs.

All mutation happens on the server's event loop (every endpoint is ``async``), so no
locks are needed. :mod:`wxqr.emulator.persistence` saves and loads the durable part.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from datetime import date
from typing import Any

from .clock import Clock, china_date
from .codes import CodeBook
from .config import AccountConfig, EmulatorConfig, FaultConfig
from .errors import WeChatError
from .results import PushRecord
from .tags import TagBook
from .tokens import TokenBook, TokenRules
from .users import FollowerBook

__all__ = ["EmulatorState", "Settings"]

_PUSH_LOG_SIZE = 10_000

#: WeChat's daily call limits of APIs that have one whatever the emulator's
#: ``daily_quota`` (lifecycle: ``qrcode/create`` allows 100,000 calls a day per account).
DEFAULT_DAILY_LIMITS: dict[str, int] = {"/cgi-bin/qrcode/create": 100_000}


@dataclass
class Settings:
    """The tunable behaviour (``/_emulator/config``); see :class:`EmulatorConfig`."""

    token_expires_in: int
    token_overlap: int
    stable_renew_before: int
    permanent_limit: int
    daily_quota: int | None
    force_refresh_daily: int
    force_refresh_interval: int
    push_timeout: float
    push_tries: int

    @classmethod
    def from_config(cls, config: EmulatorConfig) -> Settings:
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{name: getattr(config, name) for name in names})

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def update(self, values: dict[str, Any]) -> None:
        """Apply ``values`` (validated first: all or nothing)."""
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")
        merged = {**self.to_json(), **values}
        for name, value in merged.items():
            if name == "daily_quota" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if name != "push_timeout" and not isinstance(value, int):
                raise ValueError(f"{name} must be an integer")
            if value < 0 or (name in ("token_expires_in", "push_tries") and value < 1):
                raise ValueError(f"{name} is out of range")
        if merged["push_timeout"] <= 0:
            raise ValueError("push_timeout must be positive")
        for name, value in merged.items():
            setattr(self, name, value)

    @property
    def token_rules(self) -> TokenRules:
        return TokenRules(
            self.token_expires_in,
            self.token_overlap,
            self.stable_renew_before,
            self.force_refresh_daily,
            self.force_refresh_interval,
        )


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = Clock(config.start_time)
        self.settings = Settings.from_config(config)
        self.faults: FaultConfig = config.faults
        self.accounts: dict[str, AccountConfig] = {a.appid: a for a in config.accounts}
        self.tokens = TokenBook()
        self.codes = CodeBook()
        self.followers = FollowerBook()
        self.tags = TagBook()
        self.calls: dict[str, int] = {}
        self.pushes: deque[PushRecord] = deque(maxlen=_PUSH_LOG_SIZE)
        self.quota: dict[tuple[str, str], tuple[date, int]] = {}
        self.next_msg_id = 23_000_000_000_000_000
        self.dirty = False

    def reset(self) -> None:
        """Forget everything that happened; keep the accounts as configured now."""
        if self.config.start_time is None:
            self.clock.reset()
        else:
            self.clock.set(self.config.start_time)
        self.settings = Settings.from_config(self.config)
        self.faults = self.config.faults
        self.tokens.clear()
        self.codes.clear()
        self.followers.clear()
        self.tags.clear()
        self.calls.clear()
        self.pushes.clear()
        self.quota.clear()
        self.dirty = True

    def account(self, appid: str | None) -> AccountConfig:
        """The account ``appid`` (or the only account when ``appid`` is None)."""
        if appid is None:
            if len(self.accounts) != 1:
                raise KeyError("several accounts: say which appid")
            return next(iter(self.accounts.values()))
        return self.accounts[appid]

    def replace_account(self, account: AccountConfig) -> None:
        self.accounts[account.appid] = account
        self.dirty = True

    def count_call(self, path: str) -> None:
        self.calls[path] = self.calls.get(path, 0) + 1

    def daily_limit(self, path: str) -> int | None:
        """The daily call limit of ``path``: the configured ``daily_quota``, else WeChat's
        own for the APIs that have one (None: unlimited)."""
        limit = self.settings.daily_quota
        return DEFAULT_DAILY_LIMITS.get(path) if limit is None else limit

    def quota_used(self, appid: str, path: str) -> int:
        """Calls of ``path`` counted today (China's calendar day, by the emulator's clock)."""
        day, used = self.quota.get((appid, path), (None, 0))
        return used if day == china_date(self.clock.now()) else 0

    def check_quota(self, appid: str, path: str) -> None:
        """45009 when the daily quota of ``path`` is used up (nothing counted)."""
        limit = self.daily_limit(path)
        if limit is not None and self.quota_used(appid, path) >= limit:
            raise WeChatError(45009)

    def take_quota(self, appid: str, path: str) -> None:
        """Count one call against the daily quota of ``path`` (45009 when used up)."""
        self.check_quota(appid, path)
        self.quota[(appid, path)] = (china_date(self.clock.now()), self.quota_used(appid, path) + 1)

    def clear_quota(self, appid: str) -> None:
        for key in [k for k in self.quota if k[0] == appid]:
            del self.quota[key]

    def new_msg_id(self) -> int:
        self.next_msg_id += 1
        return self.next_msg_id
