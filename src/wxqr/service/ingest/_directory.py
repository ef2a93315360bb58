"""Accounts by appid, cached in memory for the webhook (a miss reads the store)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from wxqr.protocol import AccountKeys
from wxqr.service.accounts import Account, get_account, single_account
from wxqr.service.catalog_version import CatalogVersion

__all__ = ["AccountDirectory", "KnownAccount"]

_SINGLE = "\x00single"


@dataclass(frozen=True)
class KnownAccount:
    """An account and its ready-made keys (the AES cipher is built once, not per push).

    b-secrets (secrets at rest): ``account`` holds its secrets decrypted (get_account
    opens them with WXQR_SECRET_KEY once per load), so a push served from this cache
    decrypts nothing; a reload every ``ttl`` seconds costs one decryption per secret.
    """

    account: Account
    keys: AccountKeys


class AccountDirectory:
    """Thread-safe cache of account lookups: found ones for ``ttl`` s, misses for 1 s,
    all forgotten when ``version`` moves."""

    def __init__(
        self, engine: Engine, version: CatalogVersion | None = None, *, ttl: float = 5.0
    ) -> None:
        self._engine = engine
        self._version = version or CatalogVersion()
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, KnownAccount | None]] = {}
        self._by_id: dict[int, KnownAccount] = {}
        self._seen = self._version.current

    def cached(self, appid: str | None) -> tuple[bool, KnownAccount | None]:
        """(hit, account) from memory only; ``appid`` None is the single-account install."""
        key = _SINGLE if appid is None else appid
        current = self._version.current
        with self._lock:
            if self._seen != current:
                self._entries.clear()
                self._seen = current
            entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    def load(self, appid: str | None) -> KnownAccount | None:
        """Read the account from the store (blocking) and cache the answer (unless the
        catalog version moved meanwhile: the answer may predate the change)."""
        version = self._version.current
        found = single_account(self._engine) if appid is None else get_account(self._engine, appid)
        known = KnownAccount(found, found.keys()) if found is not None else None
        key = _SINGLE if appid is None else appid
        ttl = self._ttl if known is not None else min(self._ttl, 1.0)
        with self._lock:
            previous = self._entries.get(key)
            if known is not None and previous is not None and previous[1] is not None:
                same = previous[1].account == known.account
                known = previous[1] if same else known  # keep the built cipher
            if version == self._version.current:
                self._entries[key] = (time.monotonic() + ttl, known)
            if known is not None:
                self._by_id[known.account.id] = known
        return known

    def stale(self, appid: str | None) -> KnownAccount | None:
        """The account last read for ``appid``, however old (None: never found, or the
        catalog version moved since): what the webhook may use while the store is down."""
        key = _SINGLE if appid is None else appid
        with self._lock:
            if self._seen != self._version.current:
                return None
            entry = self._entries.get(key)
        return entry[1] if entry is not None else None

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()

    def wechat_account_ids(self) -> frozenset[int]:
        """Ids of the accounts seen so far that can call WeChat (they have an app secret)."""
        with self._lock:
            return frozenset(i for i, k in self._by_id.items() if k.account.app_secret)
