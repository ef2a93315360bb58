"""Client settings: one frozen value, built in code or from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ._errors import ConfigurationError

__all__ = ["DEFAULT_API_BASE", "DEFAULT_MP_BASE", "ClientConfig", "TokenSource"]

DEFAULT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_MP_BASE = "https://mp.weixin.qq.com"


class TokenSource(StrEnum):
    """Where access tokens come from.

    ``STABLE`` (default): ``POST /cgi-bin/stable_token`` with ``force_refresh: false``; the
    platform hands every caller the same token while it is valid.
    ``CLASSIC``: ``GET /cgi-bin/token``; each call invalidates the previous token after a
    five-minute overlap, so only the single-flight refresh keeps workers from fighting.
    """

    STABLE = "stable"
    CLASSIC = "classic"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything a :class:`~wxqr.wechat.WeChatClient` needs for one account.

    Times are seconds. ``refresh_margin``: refresh a token this long before it expires.
    ``lock_ttl``: how long a refresh lock lives if its holder dies. ``lock_wait``: how long
    to wait for another worker's refresh before :class:`TokenRefreshTimeout`.
    ``busy_retries``: retries after errcode -1, sleeping a random time in
    ``[0, min(backoff_max, backoff_base * 2**attempt)]`` before each (full jitter).
    """

    appid: str
    secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    mp_base: str = DEFAULT_MP_BASE
    timeout: float = 10.0
    token_source: TokenSource = TokenSource.STABLE
    refresh_margin: float = 300.0
    lock_ttl: float = 15.0
    lock_wait: float = 20.0
    lock_poll: float = 0.05
    busy_retries: int = 3
    backoff_base: float = 0.2
    backoff_max: float = 2.0
    redis_url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.appid:
            raise ConfigurationError("appid must not be empty")
        if not self.secret:
            raise ConfigurationError("secret must not be empty")
        for name in ("api_base", "mp_base"):
            value = getattr(self, name)
            if not value.startswith(("http://", "https://")):
                raise ConfigurationError(f"{name} must be an http(s) URL, got {value!r}")
            object.__setattr__(self, name, value.rstrip("/"))
        object.__setattr__(self, "token_source", TokenSource(self.token_source))
        positive = ("timeout", "lock_ttl", "lock_wait", "lock_poll", "backoff_max")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be positive")
        if self.refresh_margin < 0 or self.backoff_base < 0 or self.busy_retries < 0:
            raise ConfigurationError("refresh_margin, backoff_base, busy_retries must be >= 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientConfig:
        """Read ``WXQR_APPID``, ``WXQR_APP_SECRET`` (required), ``WXQR_WECHAT_API_BASE``,
        ``WXQR_WECHAT_MP_BASE``, ``WXQR_WECHAT_TOKEN_SOURCE`` (stable|classic),
        ``WXQR_WECHAT_TIMEOUT`` and ``WXQR_REDIS_URL``.

        A convenience for scripts that use this client library on its own. wxqr itself
        never calls it: its clients are configured from :class:`wxqr.settings.Settings`
        (the same variables) by ``wxqr.service.wechat_clients.WeChatClients``."""
        env = os.environ if environ is None else environ
        appid = env.get("WXQR_APPID", "")
        secret = env.get("WXQR_APP_SECRET", "")
        if not appid or not secret:
            raise ConfigurationError("WXQR_APPID and WXQR_APP_SECRET must be set")
        source = env.get("WXQR_WECHAT_TOKEN_SOURCE", TokenSource.STABLE.value)
        try:
            token_source = TokenSource(source.strip().lower())
            timeout = float(env.get("WXQR_WECHAT_TIMEOUT", "10"))
        except ValueError as exc:
            raise ConfigurationError(f"invalid WeChat client setting: {exc}") from None
        return cls(
            appid=appid,
            secret=secret,
            api_base=env.get("WXQR_WECHAT_API_BASE") or DEFAULT_API_BASE,
            mp_base=env.get("WXQR_WECHAT_MP_BASE") or DEFAULT_MP_BASE,
            timeout=timeout,
            token_source=token_source,
            redis_url=env.get("WXQR_REDIS_URL") or None,
        )
