"""Official Accounts wxqr serves: add, list, look up, configure.

An :class:`Account` carries its secrets (token, app secret, AES key) in fields hidden
from ``repr``; :meth:`Account.info` is the public view (no secrets at all) that the API,
the dashboard and the CLI show. The secrets are stored through the engine's
:class:`~wxqr.service.secrets_box.SecretBox` (encrypted when ``WXQR_SECRET_KEY`` is set):
an :class:`Account` always holds them decrypted, so its readers (the webhook's account
cache among them) never decrypt.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, RowMapping, null, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.protocol import AccountKeys, EncryptMode, ProtocolError, Reply
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError
from wxqr.service.replies import parse_reply_spec, reply_spec
from wxqr.service.secrets_box import SEALED_PREFIX, SecretBox, secret_box
from wxqr.settings import EnvAccount
from wxqr.store import tables as t

__all__ = [
    "Account",
    "AccountError",
    "AccountExists",
    "AccountInfo",
    "UnknownAccount",
    "add_account",
    "get_account",
    "get_account_by_id",
    "list_accounts",
    "resolve_account",
    "set_default_subscribe_reply",
    "single_account",
    "sync_env_account",
    "update_account",
]

_APPID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN = re.compile(r"^[\x21-\x7e]{1,128}$")
_APP_SECRET = re.compile(r"^[\x21-\x7e]{1,256}$")


class AccountError(InvalidInputError, ValueError):
    """An account that cannot be added or changed as asked (the message says why)."""

    title = "Invalid account"


class AccountExists(AccountError, ConflictError):
    """An account with this appid is already configured."""

    title = "Account exists"


class UnknownAccount(AccountError, NotFoundError, LookupError):
    """No account with this appid (or id): a :class:`NotFoundError` (404) everywhere."""

    title = "Not found"
    field = "account"


@dataclass(frozen=True)
class AccountInfo:
    """What may be shown about an account: never a secret."""

    id: int
    appid: str
    name: str
    original_id: str | None
    encrypt_mode: EncryptMode
    timezone: str
    has_app_secret: bool
    has_aes_key: bool
    created_at: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "appid": self.appid,
            "name": self.name,
            "original_id": self.original_id,
            "encrypt_mode": self.encrypt_mode.value,
            "timezone": self.timezone,
            "has_app_secret": self.has_app_secret,
            "has_aes_key": self.has_aes_key,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Account:
    """A configured account with its secrets (hidden from ``repr``)."""

    id: int
    appid: str
    name: str
    original_id: str | None
    encrypt_mode: EncryptMode
    timezone: str
    default_subscribe_reply: Reply | None
    created_at: int
    token: str = field(repr=False)
    app_secret: str | None = field(default=None, repr=False)
    aes_key: str | None = field(default=None, repr=False)

    def keys(self) -> AccountKeys:
        """What the webhook needs to verify, open and answer this account's pushes."""
        return AccountKeys(self.appid, self.token, self.aes_key, self.encrypt_mode)

    def info(self) -> AccountInfo:
        return AccountInfo(
            id=self.id,
            appid=self.appid,
            name=self.name,
            original_id=self.original_id,
            encrypt_mode=self.encrypt_mode,
            timezone=self.timezone,
            has_app_secret=bool(self.app_secret),
            has_aes_key=bool(self.aes_key),
            created_at=self.created_at,
        )


def _from_row(row: RowMapping, box: SecretBox) -> Account:
    raw_reply = row["default_subscribe_reply"]
    appid = row["appid"]
    return Account(
        id=row["id"],
        appid=row["appid"],
        name=row["name"],
        original_id=row["original_id"],
        encrypt_mode=EncryptMode(row["encrypt_mode"]),
        timezone=row["timezone"],
        default_subscribe_reply=parse_reply_spec(raw_reply) if raw_reply is not None else None,
        created_at=row["created_at"],
        token=box.open(row["token"], what=f"the token of account {appid}"),
        app_secret=box.open_optional(row["app_secret"], what=f"the app secret of {appid}"),
        aes_key=box.open_optional(row["aes_key"], what=f"the AES key of account {appid}"),
    )


def _validate(
    appid: str,
    token: str,
    aes_key: str | None,
    mode: EncryptMode,
    timezone: str,
    app_secret: str | None = None,
) -> None:
    if not _APPID.match(appid):
        raise AccountError("appid must be 1..64 letters, digits, '_' or '-'")
    if not _TOKEN.match(token) or token.startswith(SEALED_PREFIX):
        raise AccountError("token must be 1..128 printable ASCII characters without spaces")
    if app_secret is not None and (
        not _APP_SECRET.match(app_secret) or app_secret.startswith(SEALED_PREFIX)
    ):
        raise AccountError("app secret must be 1..256 printable ASCII characters without spaces")
    try:
        AccountKeys(appid, token, aes_key, mode)
    except (ProtocolError, ValueError) as exc:
        # Messages of the protocol core never contain the key itself.
        raise AccountError(str(exc)) from None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"unknown time zone {timezone!r}") from None


def add_account(
    engine: Engine,
    *,
    appid: str,
    token: str,
    app_secret: str | None = None,
    aes_key: str | None = None,
    encrypt_mode: EncryptMode | str = EncryptMode.PLAIN,
    name: str = "",
    timezone: str = "Asia/Shanghai",
    catalog: CatalogVersion | None = None,
) -> Account:
    """Add an account; raises :class:`AccountExists` or :class:`AccountError`.

    ``catalog``: the serving process's version, so its webhook serves the account at
    once (without, its cached "unknown account" lasts up to a second)."""
    mode = EncryptMode(encrypt_mode)
    aes_key = aes_key or None
    app_secret = app_secret or None
    _validate(appid, token, aes_key, mode, timezone, app_secret)
    box = secret_box(engine)
    values = {
        "appid": appid,
        "name": name,
        "token": box.seal(token),
        "app_secret": box.seal_optional(app_secret),
        "aes_key": box.seal_optional(aes_key),
        "encrypt_mode": mode.value,
        "timezone": timezone,
        "created_at": int(time.time()),
    }
    try:
        with engine.begin() as conn:
            conn.execute(t.accounts.insert().values(**values))
    except IntegrityError:
        raise AccountExists(f"account {appid} already exists") from None
    if catalog is not None:
        catalog.bump()
    account = get_account(engine, appid)
    assert account is not None
    return account


def update_account(
    engine: Engine,
    appid: str,
    *,
    catalog: CatalogVersion,
    token: str | None = None,
    app_secret: str | None = None,
    aes_key: str | None = None,
    encrypt_mode: EncryptMode | str | None = None,
    name: str | None = None,
    timezone: str | None = None,
) -> Account:
    """Change the given fields of an account (``None`` leaves a field as it is); bumps
    ``catalog`` (the webhook caches accounts: their token, keys and replies)."""
    current = get_account(engine, appid)
    if current is None:
        raise UnknownAccount(f"no account {appid}")
    mode = EncryptMode(encrypt_mode) if encrypt_mode is not None else current.encrypt_mode
    new_token = token if token is not None else current.token
    new_key = (aes_key or None) if aes_key is not None else current.aes_key
    new_tz = timezone if timezone is not None else current.timezone
    new_secret = (app_secret or None) if app_secret is not None else current.app_secret
    _validate(appid, new_token, new_key, mode, new_tz, new_secret)
    # Every secret is written again: a plaintext one of an older install gets encrypted
    # (when WXQR_SECRET_KEY is set) on the account's next change.
    box = secret_box(engine)
    values: dict[str, Any] = {
        "token": box.seal(new_token),
        "app_secret": box.seal_optional(new_secret),
        "aes_key": box.seal_optional(new_key),
        "encrypt_mode": mode.value,
        "timezone": new_tz,
    }
    if name is not None:
        values["name"] = name
    with engine.begin() as conn:
        conn.execute(update(t.accounts).where(t.accounts.c.appid == appid).values(**values))
    catalog.bump()
    account = get_account(engine, appid)
    assert account is not None
    return account


def sync_env_account(engine: Engine, env: EnvAccount, *, catalog: CatalogVersion) -> Account:
    """Make the store hold the account configured by ``WXQR_*`` variables (add or update)."""
    current = get_account(engine, env.appid)
    if current is None:
        try:
            return add_account(
                engine,
                appid=env.appid,
                token=env.token,
                app_secret=env.app_secret,
                aes_key=env.aes_key,
                encrypt_mode=env.encrypt_mode,
                catalog=catalog,
            )
        except AccountExists:  # another process added it meanwhile
            pass
    return update_account(
        engine,
        env.appid,
        catalog=catalog,
        token=env.token,
        app_secret=env.app_secret,
        aes_key=env.aes_key or "",
        encrypt_mode=env.encrypt_mode,
    )


def get_account(engine: Engine, appid: str) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(select(t.accounts).where(t.accounts.c.appid == appid)).mappings()
        found = row.first()
    return _from_row(found, secret_box(engine)) if found is not None else None


def get_account_by_id(engine: Engine, account_id: int) -> Account | None:
    with engine.connect() as conn:
        row = conn.execute(select(t.accounts).where(t.accounts.c.id == account_id)).mappings()
        found = row.first()
    return _from_row(found, secret_box(engine)) if found is not None else None


def list_accounts(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.accounts).order_by(t.accounts.c.id)).mappings().all()
    box = secret_box(engine)
    return [_from_row(row, box) for row in rows]


def single_account(engine: Engine) -> Account | None:
    """The only account of a single-account install (``None`` if there are 0 or several)."""
    with engine.connect() as conn:
        rows = conn.execute(select(t.accounts).order_by(t.accounts.c.id).limit(2)).mappings()
        found = rows.all()
    return _from_row(found[0], secret_box(engine)) if len(found) == 1 else None


def resolve_account(
    engine: Engine, ref: str | int | None = None, *, first_of_several: bool = False
) -> Account:
    """The account ``ref`` names (its appid, else its id); with no ref, the only one.

    This is the one default-account rule of every adapter. With no ref and several
    accounts the caller must say which (:class:`InvalidInputError`), unless
    ``first_of_several`` (the dashboard, which shows an account picker): then the first
    one. No account at all, or none named ``ref``: :class:`UnknownAccount`.
    """
    if ref is None or ref == "":
        found = list_accounts(engine)
        if len(found) == 1 or (found and first_of_several):
            return found[0]
        if not found:
            raise UnknownAccount("no account is configured yet: add one with `wxqr account add`")
        raise InvalidInputError(
            "several accounts are configured: say which one (appid) with `account`",
            field="account",
        )
    account = None
    if isinstance(ref, str):
        account = get_account(engine, ref.strip())
    text = str(ref).strip()
    if account is None and text.isdigit() and len(text) < 19:
        account = get_account_by_id(engine, int(text))
    if account is None:
        named = f"appid {ref.strip()!r}" if isinstance(ref, str) else f"id {ref}"
        raise UnknownAccount(f"no account with {named}")
    return account


def set_default_subscribe_reply(
    engine: Engine, appid: str, reply: Reply | None, *, catalog: CatalogVersion
) -> Account:
    """Set (or clear, with ``None``) the reply to a plain subscribe; bumps ``catalog``
    (the webhook answers from its cached account)."""
    spec: Any = reply_spec(reply) if reply is not None else null()
    with engine.begin() as conn:
        result = conn.execute(
            update(t.accounts)
            .where(t.accounts.c.appid == appid)
            .values(default_subscribe_reply=spec)
        )
    if result.rowcount == 0:
        raise UnknownAccount(f"no account {appid}")
    catalog.bump()
    account = get_account(engine, appid)
    assert account is not None
    return account
