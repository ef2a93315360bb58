"""Configuration of an emulator: its accounts and the knobs of WeChat's behaviour.

Everything here is a frozen dataclass; the running emulator keeps a mutable copy of the
tunable settings (see :mod:`wxqr.emulator.state`) that the control API may change.
Secrets (app secret, token, EncodingAESKey) never appear in ``repr``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from wxqr.protocol import AccountKeys, EncryptMode, decode_aes_key

__all__ = [
    "DEFAULT_APPID",
    "DEFAULT_ORIGINAL_ID",
    "DEFAULT_SECRET",
    "DEFAULT_TOKEN",
    "AccountConfig",
    "EmulatorConfig",
    "FaultConfig",
    "default_account",
    "derived_original_id",
]

DEFAULT_APPID = "wxemulator00000001"
DEFAULT_SECRET = "emulator-secret"  # noqa: S105 - a well-known offline default
DEFAULT_TOKEN = "emulator-token"  # noqa: S105 - a well-known offline default
DEFAULT_ORIGINAL_ID = "gh_e0000000000001"


@dataclass(frozen=True)
class AccountConfig:
    """One Official Account hosted by the emulator."""

    appid: str
    secret: str = field(repr=False)
    token: str = field(repr=False)
    aes_key: str | None = field(default=None, repr=False)
    mode: EncryptMode = EncryptMode.PLAIN
    push_url: str | None = None
    original_id: str = ""

    def __post_init__(self) -> None:
        if not self.appid:
            raise ValueError("an account needs an appid")
        if not self.secret or not self.token:
            raise ValueError("an account needs a secret and a token")
        object.__setattr__(self, "mode", EncryptMode(self.mode))
        if self.aes_key is not None:
            decode_aes_key(self.aes_key)
        elif self.mode is not EncryptMode.PLAIN:
            raise ValueError(f"{self.mode.value} mode needs an EncodingAESKey")
        if not self.original_id:
            object.__setattr__(self, "original_id", derived_original_id(self.appid))

    @property
    def keys(self) -> AccountKeys:
        """What the account's server (and the emulator, to seal pushes) needs."""
        return AccountKeys(self.appid, self.token, self.aes_key, self.mode)


@dataclass(frozen=True)
class FaultConfig:
    """Injected faults on the WeChat API paths (never on ``/_emulator/``).

    ``busy_ratio`` of calls answer errcode -1, ``drop_ratio`` of calls lose their
    connection mid-answer, every call waits ``latency`` seconds first. ``paths`` limits
    the faults to paths starting with one of these prefixes (empty: every API path).
    ``seed`` makes the random draws repeatable.
    """

    busy_ratio: float = 0.0
    latency: float = 0.0
    drop_ratio: float = 0.0
    paths: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("busy_ratio", "drop_ratio"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value!r}")
        if self.latency < 0:
            raise ValueError(f"latency must not be negative, got {self.latency!r}")
        object.__setattr__(self, "paths", tuple(self.paths))

    @property
    def active(self) -> bool:
        return self.busy_ratio > 0 or self.drop_ratio > 0 or self.latency > 0


@dataclass(frozen=True)
class EmulatorConfig:
    """The whole emulator: accounts and WeChat's tunable behaviour.

    * ``token_expires_in``: lifetime of an access token (WeChat: 7200 s).
    * ``token_overlap``: how long a classic token stays valid after a newer one was issued
      (WeChat: 300 s); also how long a stable token survives a ``force_refresh``.
    * ``stable_renew_before``: stable_token in normal mode renews a token this close to its
      expiry (WeChat: about 300 s; capped at half the lifetime).
    * ``permanent_limit``: permanent codes per account (WeChat: 100,000; then 45029).
    * ``daily_quota``: calls per API path, account and day (None: unlimited; then 45009).
    * ``force_refresh_daily`` / ``force_refresh_interval``: stable_token's force_refresh
      limits (WeChat: 20 a day, 30 s apart).
    * ``push_timeout`` / ``push_tries``: WeChat waits 5 s per try, three tries in all.
    * ``state_path``: a ``.json`` or SQLite file that keeps the state across restarts.
    * ``start_time``: the emulator clock's initial Unix time (None: the real time).
    * ``push_ca_file``: a PEM file of certificate authorities that push URLs' HTTPS
      certificates are checked against (None: the system's), e.g. a test's self-signed CA.
    """

    accounts: tuple[AccountConfig, ...] = ()
    token_expires_in: int = 7200
    token_overlap: int = 300
    stable_renew_before: int = 300
    permanent_limit: int = 100_000
    daily_quota: int | None = None
    force_refresh_daily: int = 20
    force_refresh_interval: int = 30
    push_timeout: float = 5.0
    push_tries: int = 3
    faults: FaultConfig = FaultConfig()
    state_path: str | None = None
    start_time: float | None = None
    push_ca_file: str | None = None

    def __post_init__(self) -> None:
        accounts = tuple(self.accounts) or (default_account(),)
        appids = [a.appid for a in accounts]
        if len(set(appids)) != len(appids):
            raise ValueError("two accounts share an appid")
        object.__setattr__(self, "accounts", accounts)
        if self.token_expires_in < 1:
            raise ValueError("token_expires_in must be at least 1 second")
        if self.token_overlap < 0 or self.permanent_limit < 0:
            raise ValueError("token_overlap and permanent_limit must not be negative")
        if self.daily_quota is not None and self.daily_quota < 0:
            raise ValueError("daily_quota must not be negative")
        if self.push_timeout <= 0 or self.push_tries < 1:
            raise ValueError("push_timeout must be positive and push_tries at least 1")


def derived_original_id(appid: str) -> str:
    """The ``gh_`` id of an account configured without one (stable for an appid)."""
    if appid == DEFAULT_APPID:
        return DEFAULT_ORIGINAL_ID
    return "gh_" + hashlib.sha1(appid.encode("utf-8")).hexdigest()[:12]  # noqa: S324


def default_account() -> AccountConfig:
    """The account an emulator hosts when none is configured."""
    return AccountConfig(
        appid=DEFAULT_APPID,
        secret=DEFAULT_SECRET,
        token=DEFAULT_TOKEN,
        original_id=DEFAULT_ORIGINAL_ID,
    )
