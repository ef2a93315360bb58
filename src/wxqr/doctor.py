"""``wxqr doctor``: what is wrong with this install, and how to fix it.

Each check gives a :class:`Check` — ``ok``, ``warn`` (works, but not as it should in
production), ``fail`` (something WeChat or a user will notice) or ``skip`` (could not be
checked because an earlier check failed) — with a ``fix`` for anything not ``ok``.
The checks, in order (a failure of the configuration or the database skips what needs it):

1. configuration — every ``WXQR_*`` variable parses (:meth:`Settings.from_env`);
2. database — a query answers;
3. migrations — the schema is at the revision this wxqr ships;
4. redis — PING answers (only with ``WXQR_REDIS_URL``);
5. accounts — at least one; for each with an AppSecret, WeChat hands out an access
   token (a real token fetch, as the worker will do);
6. webhook — with a public URL, the echostr round trip WeChat's console does when you
   press 提交 (submit): a signed ``GET`` with a random ``echostr`` must come back 200
   with the same ``echostr``, through DNS, TLS and the reverse proxy;
7. clock — the skew between this host's clock and the ``CreateTime`` WeChat stamps on
   pushes (from the latest stored pushes): a skew near ``WXQR_PUSH_MAX_AGE_SECONDS``
   makes wxqr refuse genuine pushes as stale.

Nothing here prints a secret: tokens and secrets are used, never shown.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, text

from wxqr.protocol import signature
from wxqr.runtime import Runtime
from wxqr.service.accounts import Account, list_accounts
from wxqr.settings import Settings, SettingsError
from wxqr.store import tables as t
from wxqr.store.migrate import current_revision, head_revision, previous_revision
from wxqr.wechat import InvalidCredentials, TransportError, WeChatError

__all__ = ["Check", "run_checks"]

_WEBHOOK_TIMEOUT = 5.0  # WeChat's own wait
_RECENT_PUSHES = 50


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``status`` is ``ok``, ``warn``, ``fail`` or ``skip``."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


def _warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, "warn", detail, fix)


def _skip(name: str, why: str) -> Check:
    return Check(name, "skip", why)


def _database(runtime: Runtime) -> Check:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error: report it, never a traceback
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        return _fail(
            "database",
            f"{runtime.engine.url.get_backend_name()}: {type(exc).__name__}: {first}",
            "check WXQR_DATABASE_URL (host, port, user, password, database) and that the "
            "database server runs and accepts this host",
        )
    return _ok("database", f"{runtime.engine.url.get_backend_name()} answers")


def _migrations(runtime: Runtime) -> Check:
    head = head_revision()
    current = current_revision(runtime.engine)
    if current == head:
        return _ok("migrations", f"schema at {head} (this wxqr's newest)")
    if current is None:
        return _fail(
            "migrations", "the database is empty", "run `wxqr db upgrade` (wxqr serve does too)"
        )
    try:
        previous_revision(current)
    except ValueError:
        return _fail(
            "migrations",
            f"schema at {current}, newer than this wxqr knows ({head})",
            "install the wxqr version that migrated it, or run `wxqr db downgrade` with it",
        )
    return _fail(
        "migrations", f"schema at {current}, this wxqr needs {head}", "run `wxqr db upgrade`"
    )


def _redis(url: str) -> Check:
    try:
        import redis
    except ImportError:
        return _fail("redis", "the redis package is missing", "pip install 'wxqr[redis]'")
    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except Exception as exc:  # any client error
        return _fail(
            "redis",
            f"PING failed: {type(exc).__name__}",
            "check WXQR_REDIS_URL and that Redis runs (or unset it to share tokens "
            "through the database)",
        )
    finally:
        client.close()
    return _ok("redis", "PING answered")


def _credentials(runtime: Runtime, account: Account) -> Check:
    name = f"credentials {account.appid}"
    if not account.app_secret:
        return _warn(
            name,
            "no AppSecret: pushes are recorded, but codes cannot be issued nor followers tagged",
            "set WXQR_APP_SECRET (or `wxqr account add … --app-secret …`)",
        )
    try:
        with runtime.clients.client(account) as client:
            client.access_token()
    except InvalidCredentials as exc:
        return _fail(
            name,
            f"WeChat refused the credentials ({exc})",
            "copy the AppID and AppSecret again from 设置与开发 → 基本配置 (reset the "
            "secret if unsure)",
        )
    except TransportError as exc:
        return _fail(
            name,
            f"WeChat could not be reached: {exc}",
            "allow outbound HTTPS to api.weixin.qq.com (proxy, firewall, DNS)",
        )
    except WeChatError as exc:
        fix = "see the errcode in WeChat's documentation"
        if "40164" in str(exc):
            fix = "add this server's public IP to the IP whitelist (基本配置 → IP白名单)"
        return _fail(name, f"WeChat refused the token request: {exc}", fix)
    return _ok(name, "WeChat issued an access token")


def _webhook_account(url: str, accounts: list[Account], settings: Settings) -> Account | None:
    path = urlsplit(url).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    for account in accounts:
        if account.appid == last:
            return account
    if settings.env_account is not None:
        for account in accounts:
            if account.appid == settings.env_account.appid:
                return account
    return accounts[0] if len(accounts) == 1 else None


def _webhook(
    url: str, accounts: list[Account], settings: Settings, client: httpx.Client
) -> list[Check]:
    name = "webhook"
    parts = urlsplit(url)
    checks: list[Check] = []
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [_fail(name, f"{url!r} is not an http(s) URL", "give the URL entered in WeChat")]
    if parts.port not in (None, 80, 443):
        checks.append(
            _warn(
                "webhook port",
                f"port {parts.port}: WeChat pushes only to ports 80 and 443",
                "publish wxqr through the reverse proxy on 443 (docs/deployment.md)",
            )
        )
    if parts.scheme != "https":
        checks.append(
            _warn(
                "webhook https",
                "plain HTTP: pushes and replies cross the internet readable",
                "serve it over HTTPS (docs/deployment.md); use safe mode (WXQR_ENCRYPT_MODE)",
            )
        )
    account = _webhook_account(url, accounts, settings)
    if account is None:
        return [
            *checks,
            _fail(
                name,
                "cannot tell which account this URL is for",
                "give /wechat/<appid>, or configure a single account",
            ),
        ]
    timestamp, nonce, echostr = str(int(time.time())), secrets.token_hex(6), secrets.token_hex(8)
    params = {
        "signature": signature(account.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    try:
        answer = client.get(url, params=params, timeout=_WEBHOOK_TIMEOUT)
    except httpx.HTTPError as exc:
        fix = "check DNS, the firewall (443 open), and that nginx and wxqr serve run"
        if "certificate" in str(exc).lower() or "ssl" in str(exc).lower():
            fix = "install a certificate trusted by public CAs for this name (Let's Encrypt)"
        return [*checks, _fail(name, f"{url} not reachable: {type(exc).__name__}: {exc}", fix)]
    if answer.status_code == 200 and answer.text == echostr:
        return [*checks, _ok(name, f"{url} answered the signed echostr (account {account.appid})")]
    fixes: Mapping[int, str] = {
        403: "the Token in WeChat's console must equal the account's token (WXQR_TOKEN)",
        404: "no such account on this wxqr: check the appid in the URL (`wxqr account list`)",
        413: "the proxy refuses the request: check its client_max_body_size",
        502: "the proxy cannot reach wxqr serve: is it running on the proxy's upstream?",
        503: "wxqr is not ready (`curl …/readyz` on the server)",
        504: "wxqr did not answer in time: check `wxqr serve` and its database",
    }
    detail = f"{url} answered HTTP {answer.status_code}, not the echostr"
    fix = fixes.get(answer.status_code, "the URL must reach wxqr's /wechat path through the proxy")
    return [*checks, _fail(name, detail, fix)]


def _clock(runtime: Runtime) -> Check:
    e = t.events
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(e.c.received_at, e.c.create_time).order_by(e.c.id.desc()).limit(_RECENT_PUSHES)
        ).all()
    if not rows:
        return _skip("clock", "no push stored yet: WeChat's CreateTime cannot be compared")
    # Delivery only adds delay, so the smallest difference is the skew (± 1 s rounding).
    skew = min(received / 1000 - created for received, created in rows)
    limit = runtime.settings.push_max_age_seconds
    detail = f"this host is {skew:+.1f} s from WeChat's CreateTime (latest {len(rows)} pushes)"
    if limit and abs(skew) > limit / 2:
        return _fail(
            "clock",
            detail,
            "synchronise the clock (systemd-timesyncd or chrony): pushes older than "
            f"{limit:g} s are refused as stale",
        )
    if abs(skew) > 30:
        return _warn("clock", detail, "synchronise the clock (systemd-timesyncd or chrony)")
    return _ok("clock", detail)


def run_checks(
    load_settings: Callable[[], Settings],
    *,
    webhook_url: str | None = None,
    http: httpx.Client | None = None,
) -> list[Check]:
    """Every check, in order (see the module docs)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        return [_fail("configuration", str(exc), "correct that variable (docs/operations.md)")]
    checks = [_ok("configuration", "every WXQR_* variable is valid")]
    try:
        runtime = Runtime.open(settings, sync_env_account=False)
    except Exception as exc:  # the store could not even be opened: report, never a traceback
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        fix = "check WXQR_DATABASE_URL and that the database server runs"
        return [*checks, _fail("database", f"{type(exc).__name__}: {first}", fix)]
    try:
        checks.extend(_with_runtime(runtime, settings, webhook_url, http))
    finally:
        runtime.close()
    return checks


def _with_runtime(
    runtime: Runtime, settings: Settings, webhook_url: str | None, http: httpx.Client | None
) -> list[Check]:
    database = _database(runtime)
    checks = [database]
    if database.status != "ok":
        return [*checks, _skip("migrations", "the database is unreachable")]
    migrations = _migrations(runtime)
    checks.append(migrations)
    if settings.redis_url:
        checks.append(_redis(settings.redis_url))
    if migrations.status != "ok":
        checks.append(_skip("accounts", "the schema is not current"))
        return checks
    if settings.env_account is not None:
        runtime.sync_env_account()
    accounts = list_accounts(runtime.engine)
    if not accounts:
        checks.append(
            _fail(
                "accounts",
                "no account: every push would be answered 404",
                "set WXQR_APPID and WXQR_TOKEN (or `wxqr account add`)",
            )
        )
    for account in accounts:
        checks.append(_credentials(runtime, account))
    if webhook_url is not None:
        client = http or httpx.Client()
        try:
            checks.extend(_webhook(webhook_url, accounts, settings, client))
        finally:
            if http is None:
                client.close()
    else:
        checks.append(
            _skip("webhook", "no --webhook-url given (the URL entered in WeChat's console)")
        )
    checks.append(_clock(runtime))
    return checks
