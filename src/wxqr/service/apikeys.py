"""API keys for the REST API: created once, shown once, stored only as a hash.

A key looks like ``wxqr_<11 chars>_<32 chars>``: about 250 random bits, so a plain SHA-256 is
the right hash (no password stretching is needed for a random secret, and lookups stay
one indexed query). The first part (``wxqr_<11 chars>``) is kept as the key's prefix so a
person can tell keys apart in lists without the secret.

Each key has an :class:`~wxqr.service.access.AccessScope`: the accounts it may touch
(some, or all) and whether it may only read. Keys made before scopes existed have every
account, read-write (the migration's defaults). The REST API enforces the scope through
``Workspace.scoped`` (see :mod:`wxqr.service.access` and docs/security.md).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from wxqr.service.access import FULL_ACCESS, AccessScope
from wxqr.service.accounts import get_account
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError
from wxqr.store.tables import api_keys

__all__ = ["ApiKey", "ApiKeyService", "CreatedApiKey", "hash_key"]

_NAME = re.compile(r"^[\w.@:-]{1,128}$")
# Writing last_used_at on every request would make every read a write: do it this often.
LAST_USED_RESOLUTION = 60


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    created_at: int
    last_used_at: int | None
    revoked_at: int | None
    scope: AccessScope = FULL_ACCESS

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key: ``secret`` is the full key, shown to its owner once and never stored."""

    key: ApiKey
    secret: str = field(repr=False)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _scope(row: RowMapping) -> AccessScope:
    appids = row["account_appids"]
    return AccessScope(
        appids=None if appids is None else frozenset(str(a) for a in appids),
        read_only=bool(row["read_only"]),
    )


def _row(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        scope=_scope(row),
    )


class ApiKeyService:
    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def create(
        self, name: str, *, accounts: Sequence[str] | None = None, read_only: bool = False
    ) -> CreatedApiKey:
        """A new key for the ``accounts`` named (appids; None or empty: every account,
        also ones added later), read-only if ``read_only``."""
        name = name.strip()
        if not _NAME.match(name):
            raise InvalidInputError(
                "a key name is 1..128 letters, digits or . _ @ : -", field="name"
            )
        appids: list[str] | None = None
        if accounts:
            appids = sorted({appid.strip() for appid in accounts})
            for appid in appids:
                if get_account(self._engine, appid) is None:
                    raise NotFoundError(f"no account with appid {appid!r}", field="account")
        # The prefix column holds 16 characters: "wxqr_" and 11 random ones.
        prefix = "wxqr_" + secrets.token_urlsafe(9)[:11].replace("_", "x").replace("-", "y")
        secret = f"{prefix}_{secrets.token_urlsafe(24)}"
        now = int(self._clock())
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(api_keys).values(
                        name=name,
                        prefix=prefix,
                        key_hash=hash_key(secret),
                        created_at=now,
                        account_appids=appids,
                        read_only=read_only,
                    )
                )
        except IntegrityError:
            raise ConflictError(f"an API key named {name!r} already exists", field="name") from None
        return CreatedApiKey(key=self.get(name), secret=secret)

    def get(self, name: str) -> ApiKey:
        with self._engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(f"no API key named {name!r}")
        return _row(row)

    def list_keys(self) -> list[ApiKey]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).mappings().all()
        return [_row(row) for row in rows]

    def revoke(self, name: str) -> ApiKey:
        key = self.get(name)
        if key.revoked_at is None:
            with self._engine.begin() as conn:
                conn.execute(
                    update(api_keys)
                    .where(api_keys.c.id == key.id)
                    .values(revoked_at=int(self._clock()))
                )
        return self.get(name)

    def authenticate(self, presented: str | None) -> ApiKey | None:
        """The active key ``presented`` is, or ``None`` (missing, unknown or revoked)."""
        if not presented or not presented.startswith("wxqr_") or len(presented) > 200:
            return None
        digest = hash_key(presented)
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(api_keys).where(api_keys.c.key_hash == digest))
                .mappings()
                .first()
            )
        if row is None or row["revoked_at"] is not None:
            return None
        # The hash matched through an index; compare once more in constant time anyway.
        if not secrets.compare_digest(row["key_hash"], digest):  # pragma: no cover
            return None
        key = _row(row)
        now = int(self._clock())
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            with self._engine.begin() as conn:
                conn.execute(
                    update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now)
                )
            key = replace(key, last_used_at=now)
        return key
