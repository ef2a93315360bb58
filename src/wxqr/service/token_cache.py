"""The database token cache: the ``access_tokens`` table of the wxqr store.

It implements :class:`wxqr.wechat.TokenCache` here, in the service layer, because the
WeChat client knows no storage (ADR 0001, ADR 0004):
:class:`~wxqr.service.wechat_clients.WeChatClients` hands it to the clients it builds
when no Redis is configured.

For installs without Redis whose workers share one database. The store is synchronous
SQLAlchemy Core, so every operation runs in a worker thread (``asyncio.to_thread``). Each
is one short transaction whose ``UPDATE ... WHERE`` is the atomic check:

* lock: ``fence = fence + 1`` where nobody holds an unexpired lock (rowcount 1 = taken);
* put: write the token where ``fence`` still is the lease's fence;
* expire_if: clear the token where it still is the failing value.

Token values are stored through the engine's :class:`~wxqr.service.secrets_box.SecretBox`
(encrypted when ``WXQR_SECRET_KEY`` is set). A stored token no key opens is a cache miss,
not an error: the client fetches a new one and stores it under the current key.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.service.secrets_box import SecretsUnreadable, secret_box
from wxqr.store.tables import access_tokens
from wxqr.wechat import CachedToken, Lease

__all__ = ["DatabaseTokenCache"]

_t = access_tokens.c
_log = logging.getLogger(__name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


class DatabaseTokenCache:
    """Tokens in the ``access_tokens`` table (the schema must exist: run the migrations).

    A :class:`wxqr.wechat.TokenCache`; stateless besides its engine, so one instance can
    serve every client and thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __repr__(self) -> str:
        return f"DatabaseTokenCache(backend={self._engine.dialect.name!r})"

    async def get(self, appid: str) -> CachedToken | None:
        return await asyncio.to_thread(self._get, appid)

    async def put(self, appid: str, token: CachedToken, lease: Lease) -> bool:
        return await asyncio.to_thread(self._put, appid, token, lease)

    async def expire_if(self, appid: str, value: str) -> bool:
        return await asyncio.to_thread(self._expire_if, appid, value)

    async def try_lock(self, appid: str, ttl: float) -> Lease | None:
        return await asyncio.to_thread(self._try_lock, appid, ttl)

    async def unlock(self, appid: str, lease: Lease) -> None:
        await asyncio.to_thread(self._unlock, appid, lease)

    async def aclose(self) -> None:
        return None

    def _open(self, appid: str, stored: str) -> str | None:
        try:
            return secret_box(self._engine).open(stored, what=f"the access token of {appid}")
        except SecretsUnreadable as exc:
            _log.warning("%s; fetching a new one", exc)
            return None

    def _get(self, appid: str) -> CachedToken | None:
        query = select(_t.token, _t.expires_at).where(_t.appid == appid)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.token is None or row.expires_at is None:
            return None
        value = self._open(appid, row.token)
        return None if value is None else CachedToken(value, int(row.expires_at))

    def _put(self, appid: str, token: CachedToken, lease: Lease) -> bool:
        stored = secret_box(self._engine).seal(token.value)
        stmt = (
            update(access_tokens)
            .where(_t.appid == appid, _t.fence == lease.fence)
            .values(token=stored, expires_at=token.expires_at_ms, updated_at=_now_ms())
        )
        with self._engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def _expire_if(self, appid: str, value: str) -> bool:
        # An encrypted value differs on every write: compare the decrypted one here, then
        # clear the row only if it still holds what was read (compare-and-set).
        with self._engine.connect() as conn:
            stored = conn.execute(select(_t.token).where(_t.appid == appid)).scalar()
        if stored is None:
            return False
        current = self._open(appid, stored)
        if current is not None and not hmac.compare_digest(current.encode(), value.encode()):
            return False
        stmt = (
            update(access_tokens)
            .where(_t.appid == appid, _t.token == stored)
            .values(token=None, expires_at=None, updated_at=_now_ms())
        )
        with self._engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def _ensure_row(self, appid: str) -> None:
        with self._engine.connect() as conn:
            exists = conn.execute(select(_t.appid).where(_t.appid == appid)).first()
        if exists is not None:
            return
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(access_tokens).values(appid=appid, updated_at=_now_ms()))
        except IntegrityError:
            pass  # another worker created it first

    def _try_lock(self, appid: str, ttl: float) -> Lease | None:
        self._ensure_row(appid)
        owner = uuid.uuid4().hex  # a random lock owner id, as wechat's own caches use
        now = _now_ms()
        free = or_(_t.lock_owner.is_(None), _t.lock_until.is_(None), _t.lock_until < now)
        take = (
            update(access_tokens)
            .where(and_(_t.appid == appid, free))
            .values(
                lock_owner=owner,
                lock_until=now + max(1, int(ttl * 1000)),
                fence=_t.fence + 1,
                updated_at=now,
            )
        )
        with self._engine.begin() as conn:
            if conn.execute(take).rowcount != 1:
                return None
            fence = conn.execute(select(_t.fence).where(_t.appid == appid)).scalar_one()
        return Lease(owner, int(fence))

    def _unlock(self, appid: str, lease: Lease) -> None:
        stmt = (
            update(access_tokens)
            .where(_t.appid == appid, _t.lock_owner == lease.owner)
            .values(lock_owner=None, lock_until=None, updated_at=_now_ms())
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)
