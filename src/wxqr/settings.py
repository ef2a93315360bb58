"""Runtime settings of a wxqr install, read once from the environment.

:meth:`Settings.from_env` is the only reader of ``WXQR_*`` variables in wxqr: every other
part gets its configuration from a :class:`Settings` value (through
:class:`wxqr.runtime.Runtime`, see docs/adr/0004-composition-root.md), so a documented
variable cannot be read by one part and missed by another.

Every field has a default that works on a laptop: a SQLite file in the working directory,
no account until one is configured (by ``WXQR_APPID``… or ``wxqr account add``).
Secrets (app secret, token, AES key, the ``WXQR_SECRET_KEY`` keys) are held with hidden
reprs and never logged.
This module imports neither the store nor the WeChat client (it only checks values).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from wxqr._dburl import DEFAULT_DATABASE_URL, SUPPORTED_BACKENDS, database_backend, normalize_url
from wxqr.protocol import EncryptMode

__all__ = ["LOG_FORMATS", "WECHAT_TOKEN_SOURCES", "EnvAccount", "Settings", "SettingsError"]

#: Values of ``WXQR_WECHAT_TOKEN_SOURCE`` (those of :class:`wxqr.wechat.TokenSource`).
WECHAT_TOKEN_SOURCES = ("stable", "classic")
#: Values of ``WXQR_LOG_FORMAT`` (see :mod:`wxqr.logs`).
LOG_FORMATS = ("text", "logfmt", "json")


class SettingsError(ValueError):
    """An environment variable holds a value wxqr cannot use (the message names it)."""


@dataclass(frozen=True)
class EnvAccount:
    """The account configured entirely by environment variables (a single-account install)."""

    appid: str
    token: str = field(repr=False)
    app_secret: str | None = field(default=None, repr=False)
    aes_key: str | None = field(default=None, repr=False)
    encrypt_mode: EncryptMode = EncryptMode.PLAIN


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def _database_url(env: Mapping[str, str]) -> str:
    url = normalize_url(_text(env, "WXQR_DATABASE_URL", DEFAULT_DATABASE_URL))
    backend = database_backend(url)
    if backend not in SUPPORTED_BACKENDS:
        # Only the scheme is quoted: the rest of the URL may hold a password.
        found = f"a {backend}:// URL" if backend else "no URL (scheme://...)"
        raise SettingsError(
            f"WXQR_DATABASE_URL must be a sqlite:// or postgresql:// URL, got {found}"
        )
    return url


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _text(env, name, default).lower()
    if value not in choices:
        raise SettingsError(f"{name} must be {' or '.join(choices)}, got {value!r}")
    return value


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """``WXQR_TRUSTED_PROXIES``: comma-separated addresses or networks (or ``*``)."""
    raw = env.get("WXQR_TRUSTED_PROXIES", "")
    found: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item != "*":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise SettingsError(
                    "WXQR_TRUSTED_PROXIES must be IP addresses or networks separated by "
                    f"commas (or *), got {item!r}"
                ) from None
        found.append(item)
    return tuple(found)


def _env_account(env: Mapping[str, str]) -> EnvAccount | None:
    appid = _optional(env, "WXQR_APPID")
    if appid is None:
        return None
    token = _optional(env, "WXQR_TOKEN")
    if token is None:
        raise SettingsError("WXQR_APPID is set but WXQR_TOKEN is not")
    raw_mode = _text(env, "WXQR_ENCRYPT_MODE", "plain").lower()
    try:
        mode = EncryptMode(raw_mode)
    except ValueError:
        raise SettingsError(
            f"WXQR_ENCRYPT_MODE must be plain, compatible or safe, got {raw_mode!r}"
        ) from None
    aes_key = _optional(env, "WXQR_AES_KEY")
    if mode is not EncryptMode.PLAIN and aes_key is None:
        raise SettingsError(f"WXQR_ENCRYPT_MODE={mode.value} needs WXQR_AES_KEY")
    return EnvAccount(
        appid=appid,
        token=token,
        app_secret=_optional(env, "WXQR_APP_SECRET"),
        aes_key=aes_key,
        encrypt_mode=mode,
    )


def _secret_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """``WXQR_SECRET_KEY``: comma-separated Fernet keys, the one that encrypts first."""
    raw = env.get("WXQR_SECRET_KEY", "").strip()
    if not raw:
        return ()
    keys = tuple(part.strip() for part in raw.split(","))
    for number, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
        except (binascii.Error, UnicodeError, ValueError):
            valid = False
        if not valid:
            # Never quote the value: it is (or is meant to be) a key.
            raise SettingsError(
                f"WXQR_SECRET_KEY: key {number} of {len(keys)} is not a key (each must be 32 "
                "url-safe base64-encoded bytes, as `wxqr db new-secret-key` prints)"
            )
    if len(set(keys)) != len(keys):
        raise SettingsError("WXQR_SECRET_KEY lists the same key twice")
    return keys


@dataclass(frozen=True)
class Settings:
    """Everything ``wxqr serve`` and the services need to know about the install."""

    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    host: str = "127.0.0.1"
    port: int = 8000
    # Pushes whose timestamp is further than this from now are refused (0 = no check).
    push_max_age_seconds: float = 600.0
    # A push not durable within this many seconds is answered 503 (WeChat waits 5 s).
    push_deadline_seconds: float = 4.0
    # Bodies larger than this are refused (413) before they are read whole.
    max_body_bytes: int = 64 * 1024
    # Every other request body (REST API, dashboard forms) larger than this is refused
    # with 413 while it streams in; the CSV import of channels has its own, larger bound.
    api_max_body_bytes: int = 1024 * 1024
    import_max_body_bytes: int = 10 * 1024 * 1024
    # At most this many pushes per group-commit transaction.
    batch_max: int = 1000
    # How long scene/account lookups stay cached in memory (other processes' edits).
    cache_ttl_seconds: float = 5.0
    # Keep the plaintext XML of every push in events.raw_xml.
    store_raw_xml: bool = True
    # Where group commit runs: "process" (a child process, the second core) or "thread"
    # (a thread of the serving process; always used for an in-memory SQLite database).
    ingest_writer: str = "process"
    # SQLite only: synchronous pragma of the ingest writer (FULL = durable on power loss).
    sqlite_synchronous: str = "FULL"
    # Python's GIL switch interval while serving: the writer thread gets the GIL back
    # quickly after each database call instead of waiting 5 ms (0 = leave Python's).
    gil_switch_interval: float = 0.0005
    # The background worker (tagging followers, fetching user info through WeChat).
    worker_enabled: bool = True
    worker_poll_seconds: float = 1.0
    job_max_attempts: int = 8
    fetch_user_info: bool = True
    # Where the WeChat client sends API calls (None = WeChat itself; tests: the emulator).
    wechat_api_base: str | None = None
    wechat_mp_base: str | None = None
    # How the WeChat client gets access tokens: "stable" (/cgi-bin/stable_token) or
    # "classic" (/cgi-bin/token); see wxqr.wechat.TokenSource.
    wechat_token_source: str = "stable"  # noqa: S105 - a mode name, not a secret
    # Seconds every WeChat API request may take.
    wechat_timeout: float = 10.0
    # Access tokens shared through Redis (None: through the database).
    redis_url: str | None = field(default=None, repr=False)
    env_account: EnvAccount | None = None
    # Dashboard logins: failures allowed per client address within the window, after
    # which its attempts are refused with 429 until the oldest failure leaves the window.
    login_max_failures: int = 5
    login_window_seconds: float = 900.0
    # Password checks running at once per process; more logins are answered 503 at once.
    login_concurrency: int = 2
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's
    # forwarded_allow_ips); empty = none, the client is the connecting address.
    trusted_proxies: tuple[str, ...] = ()
    # webhooks: outbound webhooks (docs/webhooks.md): http and private addresses are for
    # local development only; delivered rows are pruned after the retention.
    webhook_allow_http: bool = False  # webhooks:
    webhook_allow_private: bool = False  # webhooks:
    webhook_retention_days: float = 7.0  # webhooks:
    # Keys that encrypt stored secrets (WXQR_SECRET_KEY, the first encrypts, all decrypt);
    # empty: secrets are stored in plaintext. See wxqr.service.secrets_box.
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    # PostgreSQL: seconds to open a connection, and the longest statement (0 = no limit),
    # so a hung or unreachable database fails requests instead of holding them.
    db_connect_timeout_seconds: float = 5.0
    db_statement_timeout_seconds: float = 30.0
    # wxqr serve: open connections at most (the oldest one still sending its request is
    # closed to make room), seconds for a request's headers, for its body, and an idle
    # keep-alive connection's life.
    http_max_connections: int = 4096
    http_header_timeout_seconds: float = 10.0
    http_body_timeout_seconds: float = 30.0
    http_keepalive_seconds: float = 5.0
    # ops: observability. /metrics needs "Authorization: Bearer <token>" when set, else
    # answers loopback clients only; log lines as text, logfmt (key=value) or JSON; one
    # log line per HTTP request (with its request id) when access_log.
    metrics_token: str | None = field(default=None, repr=False)
    log_format: str = "text"
    access_log: bool = False
    # scan-sessions: sessions an account may create per minute (each is a WeChat
    # qrcode/create call, 100,000 a day), and how long finished sessions are kept.
    scan_sessions_per_minute: int = 60  # scan-sessions:
    scan_session_retention_days: float = 30.0  # scan-sessions:
    # posters: the font file of poster captions (None: the first CJK font of the search
    # order in wxqr.render's FONT_SEARCH_ORDER, e.g. Debian's fonts-noto-cjk).
    poster_font: str | None = None  # posters:
    # lifecycle: how long before expiry the worker renews an auto-renew channel's temporary
    # code (a channel may set its own), and sends code.expiring for codes that do not renew.
    renew_lead_seconds: int = 2 * 86400  # lifecycle:
    expiring_notice_seconds: int = 3 * 86400  # lifecycle:

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``WXQR_*`` variable (``environ`` defaults to ``os.environ``)."""
        env = os.environ if environ is None else environ
        sync = _text(env, "WXQR_SQLITE_SYNCHRONOUS", "FULL").upper()
        if sync not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise SettingsError(
                f"WXQR_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, got {sync!r}"
            )
        writer = _choice(env, "WXQR_INGEST_WRITER", "process", ("process", "thread"))
        return cls(
            database_url=_database_url(env),
            host=_text(env, "WXQR_HOST", "127.0.0.1"),
            port=_int(env, "WXQR_PORT", 8000, minimum=0),
            push_max_age_seconds=_float(env, "WXQR_PUSH_MAX_AGE_SECONDS", 600.0),
            push_deadline_seconds=_float(env, "WXQR_PUSH_DEADLINE_SECONDS", 4.0, minimum=0.05),
            max_body_bytes=_int(env, "WXQR_MAX_BODY_BYTES", 64 * 1024, minimum=1024),
            api_max_body_bytes=_int(env, "WXQR_API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            import_max_body_bytes=_int(
                env, "WXQR_IMPORT_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024
            ),
            batch_max=_int(env, "WXQR_BATCH_MAX", 1000, minimum=1),
            cache_ttl_seconds=_float(env, "WXQR_CACHE_TTL_SECONDS", 5.0),
            store_raw_xml=_bool(env, "WXQR_STORE_RAW_XML", True),
            ingest_writer=writer,
            sqlite_synchronous=sync,
            gil_switch_interval=_float(env, "WXQR_GIL_SWITCH_INTERVAL", 0.0005),
            worker_enabled=_bool(env, "WXQR_WORKER", True),
            worker_poll_seconds=_float(env, "WXQR_WORKER_POLL_SECONDS", 1.0, minimum=0.01),
            job_max_attempts=_int(env, "WXQR_JOB_MAX_ATTEMPTS", 8, minimum=1),
            fetch_user_info=_bool(env, "WXQR_FETCH_USER_INFO", True),
            wechat_api_base=_optional(env, "WXQR_WECHAT_API_BASE"),
            wechat_mp_base=_optional(env, "WXQR_WECHAT_MP_BASE"),
            wechat_token_source=_choice(
                env, "WXQR_WECHAT_TOKEN_SOURCE", "stable", WECHAT_TOKEN_SOURCES
            ),
            wechat_timeout=_float(env, "WXQR_WECHAT_TIMEOUT", 10.0, minimum=0.1),
            redis_url=_optional(env, "WXQR_REDIS_URL"),
            env_account=_env_account(env),
            login_max_failures=_int(env, "WXQR_LOGIN_MAX_FAILURES", 5, minimum=1),
            login_window_seconds=_float(env, "WXQR_LOGIN_WINDOW_SECONDS", 900.0, minimum=1.0),
            login_concurrency=_int(env, "WXQR_LOGIN_CONCURRENCY", 2, minimum=1),
            trusted_proxies=_trusted_proxies(env),
            webhook_allow_http=_bool(env, "WXQR_WEBHOOK_ALLOW_HTTP", False),  # webhooks:
            webhook_allow_private=_bool(env, "WXQR_WEBHOOK_ALLOW_PRIVATE", False),  # webhooks:
            webhook_retention_days=_float(env, "WXQR_WEBHOOK_RETENTION_DAYS", 7.0),  # webhooks:
            secret_keys=_secret_keys(env),
            db_connect_timeout_seconds=_float(
                env, "WXQR_DB_CONNECT_TIMEOUT_SECONDS", 5.0, minimum=1.0
            ),
            db_statement_timeout_seconds=_float(env, "WXQR_DB_STATEMENT_TIMEOUT_SECONDS", 30.0),
            http_max_connections=_int(env, "WXQR_HTTP_MAX_CONNECTIONS", 4096, minimum=16),
            http_header_timeout_seconds=_float(
                env, "WXQR_HTTP_HEADER_TIMEOUT_SECONDS", 10.0, minimum=0.1
            ),
            http_body_timeout_seconds=_float(
                env, "WXQR_HTTP_BODY_TIMEOUT_SECONDS", 30.0, minimum=0.1
            ),
            http_keepalive_seconds=_float(env, "WXQR_HTTP_KEEPALIVE_SECONDS", 5.0, minimum=0.1),
            metrics_token=_optional(env, "WXQR_METRICS_TOKEN"),  # ops
            log_format=_choice(env, "WXQR_LOG_FORMAT", "text", LOG_FORMATS),  # ops
            access_log=_bool(env, "WXQR_ACCESS_LOG", False),  # ops
            scan_sessions_per_minute=_int(  # scan-sessions:
                env, "WXQR_SCAN_SESSIONS_PER_MINUTE", 60, minimum=1
            ),
            scan_session_retention_days=_float(  # scan-sessions:
                env, "WXQR_SCAN_SESSION_RETENTION_DAYS", 30.0
            ),
            poster_font=_optional(env, "WXQR_POSTER_FONT"),  # posters:
            renew_lead_seconds=_int(  # lifecycle:
                env, "WXQR_RENEW_LEAD_SECONDS", 2 * 86400, minimum=60
            ),
            expiring_notice_seconds=_int(  # lifecycle:
                env, "WXQR_EXPIRING_NOTICE_SECONDS", 3 * 86400, minimum=60
            ),
        )
