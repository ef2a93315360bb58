"""The scan-session use cases: create, look up, cancel, expire, prune; bindings.

Completion happens on the push hot path (:mod:`._ingest`); waiting for it is
:class:`~._watch.SessionWatcher`'s. docs/scan-sessions.md tells the whole story.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from wxqr.protocol import InvalidQRRequest, QRRequest, show_url
from wxqr.service.access import AccountAccess
from wxqr.service.accounts import Account, get_account_by_id
from wxqr.service.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TooManyRequestsError,
    upstream_error,
)
from wxqr.service.quotas import record_qrcode_call  # lifecycle:
from wxqr.service.replies import reply_from_input, reply_spec
from wxqr.service.session_scenes import new_session_scene
from wxqr.store import tables as t
from wxqr.wechat import QRTicket, WeChatError

from ._model import (
    MAX_PAYLOAD_BYTES,
    MAX_REF_LENGTH,
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
    PURPOSE_PATTERN,
    Binding,
    CreatedSession,
    NewScanSession,
    ScanSession,
    SessionStatus,
)
from ._outbox import EXPIRED, outbox_row

__all__ = ["ScanSessionService"]


class _Issuer(Protocol):
    def create_qrcode(self, request: QRRequest) -> QRTicket: ...


IssuerFor = Callable[[Account], AbstractContextManager[_Issuer]]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ScanSessionService:
    """Scan sessions over ``engine``; ``access`` limits it to an API key's scope."""

    engine: Engine
    issuer_for: IssuerFor
    mp_base: str
    clock: Callable[[], float] = time.time
    per_minute: int = 60
    retention_days: float = 30.0
    access: AccountAccess | None = None

    def scoped(self, access: AccountAccess) -> ScanSessionService:
        """This service limited to ``access`` (other accounts' sessions are not found)."""
        return replace(self, access=access)

    # -- creating ---------------------------------------------------------------------------
    def create(self, account_id: int, spec: NewScanSession) -> CreatedSession:
        """Check ``spec``, count the account's rate, issue the temporary code, store it."""
        self._write_allowed(account_id)
        values = self._checked(spec)
        account = get_account_by_id(self.engine, account_id)
        if account is None:
            raise NotFoundError(f"no account with id {account_id}")
        if not account.app_secret:
            raise InvalidInputError(
                f"account {account.appid} has no app secret: wxqr cannot ask WeChat for a code",
                field="account",
            )
        now = int(self.clock())
        token = secrets.token_urlsafe(24)
        scene = new_session_scene(values["purpose"])
        with self.engine.begin() as conn:
            self._check_rate(conn, account_id, now)
            if conn.execute(
                select(t.scenes.c.id).where(
                    t.scenes.c.account_id == account_id, t.scenes.c.scene == scene
                )
            ).first():  # pragma: no cover - 128 random bits
                raise ConflictError("could not find a free session scene")
            key = conn.execute(
                insert(t.scan_sessions).values(
                    account_id=account_id,
                    scene=scene,
                    poll_token_hash=_hash(token),
                    status=SessionStatus.PENDING.value,
                    expires_at=now + values["ttl"],
                    created_at=now,
                    updated_at=now,
                    **{k: v for k, v in values.items() if k != "ttl"},
                )
            ).inserted_primary_key
        assert key is not None
        session_id = int(key[0])
        try:
            request = QRRequest.temporary(scene, values["ttl"])
            with self.issuer_for(account) as issuer:
                ticket = issuer.create_qrcode(request)
        except (WeChatError, InvalidQRRequest, Exception) as exc:
            with self.engine.begin() as conn:
                conn.execute(delete(t.scan_sessions).where(t.scan_sessions.c.id == session_id))
            if isinstance(exc, WeChatError):
                raise upstream_error(exc, "issue the session's code") from None
            raise
        record_qrcode_call(self.engine, account_id, now)  # lifecycle: wxqr's own quota count
        expires_at = (
            int(ticket.expires_at.timestamp())
            if ticket.expires_at is not None
            else now + values["ttl"]
        )
        with self.engine.begin() as conn:
            conn.execute(
                update(t.scan_sessions)
                .where(t.scan_sessions.c.id == session_id)
                .values(ticket=ticket.ticket, url=ticket.url, expires_at=expires_at)
            )
        return CreatedSession(self.get(session_id), token)

    @staticmethod
    def _checked(spec: NewScanSession) -> dict[str, Any]:
        if not PURPOSE_PATTERN.match(spec.purpose or ""):
            raise InvalidInputError(
                "purpose must be 1–32 letters, digits, '-', '_' or '.' (e.g. login, bind)",
                field="purpose",
            )
        if spec.ref is not None and not 1 <= len(spec.ref) <= MAX_REF_LENGTH:
            raise InvalidInputError(f"ref must be 1–{MAX_REF_LENGTH} characters", field="ref")
        if spec.purpose == "bind" and not spec.ref:
            raise InvalidInputError("a bind session needs the ref to bind to", field="ref")
        if spec.payload is not None:
            if not isinstance(spec.payload, dict):
                raise InvalidInputError("payload must be a JSON object", field="payload")
            size = len(json.dumps(spec.payload, ensure_ascii=False).encode())
            if size > MAX_PAYLOAD_BYTES:
                raise InvalidInputError(
                    f"payload is {size} bytes as JSON, at most {MAX_PAYLOAD_BYTES}",
                    field="payload",
                )
        if not MIN_TTL_SECONDS <= spec.ttl_seconds <= MAX_TTL_SECONDS:
            raise InvalidInputError(
                f"ttl_seconds must be {MIN_TTL_SECONDS}…{MAX_TTL_SECONDS}", field="ttl_seconds"
            )
        reply = reply_from_input(spec.reply)
        return {
            "purpose": spec.purpose,
            "ref": spec.ref,
            "payload": spec.payload,
            "once": spec.once,
            "reply": reply_spec(reply) if reply is not None else None,
            "ttl": spec.ttl_seconds,
        }

    def _check_rate(self, conn: Connection, account_id: int, now: int) -> None:
        s = t.scan_sessions
        recent = conn.execute(
            select(func.count())
            .select_from(s)
            .where(s.c.account_id == account_id, s.c.created_at > now - 60)
        ).scalar_one()
        if recent >= self.per_minute:
            raise TooManyRequestsError(
                f"this account already created {recent} scan sessions in the last minute "
                f"(limit {self.per_minute}, WXQR_SCAN_SESSIONS_PER_MINUTE): try again shortly"
            )

    # -- reading ----------------------------------------------------------------------------
    def get(self, session_id: int) -> ScanSession:
        """The session; one past its expiry is expired from now on (event emitted)."""
        row = self._row(session_id)
        if row["status"] == SessionStatus.PENDING and row["expires_at"] < int(self.clock()):
            self.sweep_expired(only=session_id)
            row = self._row(session_id)
        return self._session(row)

    def for_browser(self, session_id: int, poll_token: str) -> ScanSession:
        """The session, for the holder of its poll token (else not found)."""
        s = t.scan_sessions
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(s.c.poll_token_hash).where(s.c.id == session_id)
            ).scalar_one_or_none()
        if stored is None or not hmac.compare_digest(stored.encode(), _hash(poll_token).encode()):
            raise NotFoundError(f"no scan session with id {session_id}")
        return ScanSessionService.get(replace(self, access=None), session_id)

    def snapshot(self, ids: list[int]) -> dict[int, tuple[str, int]]:
        """(status, scans) of the sessions ``ids``: what a waiter compares."""
        s = t.scan_sessions
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.c.id, s.c.status, s.c.scans).where(s.c.id.in_(ids)))
            return {row[0]: (row[1], row[2]) for row in rows}

    def _row(self, session_id: int) -> RowMapping:
        s, a = t.scan_sessions, t.accounts
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(s, a.c.appid)
                    .join(a, a.c.id == s.c.account_id)
                    .where(s.c.id == session_id)
                )
                .mappings()
                .first()
            )
        if row is None or (
            self.access is not None and not self.access.allows_id(row["account_id"])
        ):
            raise NotFoundError(f"no scan session with id {session_id}")
        return row

    def _session(self, row: RowMapping) -> ScanSession:
        return ScanSession(
            id=row["id"],
            account_id=row["account_id"],
            appid=row["appid"],
            status=SessionStatus(row["status"]),
            purpose=row["purpose"],
            ref=row["ref"],
            payload=row["payload"],
            once=bool(row["once"]),
            scene=row["scene"],
            ticket=row["ticket"],
            url=row["url"],
            image_url=show_url(row["ticket"], self.mp_base) if row["ticket"] else None,
            openid=row["openid"],
            unionid=row["unionid"],
            followed_now=row["followed_now"],
            scanned_at=row["scanned_at"],
            scans=row["scans"],
            expires_at=row["expires_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    # -- changing ---------------------------------------------------------------------------
    def cancel(self, session_id: int) -> ScanSession:
        """Cancel a pending session (a finished one is left as it is)."""
        row = self._row(session_id)
        self._write_allowed(row["account_id"])
        s = t.scan_sessions
        with self.engine.begin() as conn:
            conn.execute(
                update(s)
                .where(s.c.id == session_id, s.c.status == SessionStatus.PENDING.value)
                .values(status=SessionStatus.CANCELLED.value, updated_at=int(self.clock()))
            )
        return self.get(session_id)

    def sweep_expired(self, *, only: int | None = None) -> int:
        """Mark pending sessions past their expiry expired, with their webhook event."""
        s = t.scan_sessions
        now = int(self.clock())
        query = select(s).where(s.c.status == SessionStatus.PENDING.value, s.c.expires_at < now)
        if only is not None:
            query = query.where(s.c.id == only)
        expired = 0
        with self.engine.begin() as conn:
            for row in conn.execute(query.order_by(s.c.id).limit(1000)).mappings().all():
                changed = conn.execute(
                    update(s)
                    .where(s.c.id == row["id"], s.c.status == SessionStatus.PENDING.value)
                    .values(status=SessionStatus.EXPIRED.value, updated_at=now)
                ).rowcount
                if changed:
                    expired += 1
                    _outbox(conn, outbox_row(EXPIRED, dict(row), "", now * 1000))
        return expired

    def prune(self) -> int:
        """Delete sessions that ended more than the retention period ago."""
        s = t.scan_sessions
        cutoff = int(self.clock() - self.retention_days * 86400)
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    delete(s).where(
                        s.c.status != SessionStatus.PENDING.value, s.c.updated_at < cutoff
                    )
                ).rowcount
            )

    # -- bindings ---------------------------------------------------------------------------
    def bindings(
        self, account_id: int, *, ref: str | None = None, openid: str | None = None
    ) -> list[Binding]:
        if self.access is not None:
            self.access.check_account_id(account_id)
        b = t.bindings
        query = select(b).where(b.c.account_id == account_id)
        if ref is not None:
            query = query.where(b.c.ref == ref)
        if openid is not None:
            query = query.where(b.c.openid == openid)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(b.c.id).limit(1000)).mappings().all()
        return [Binding(**dict(row)) for row in rows]

    def remove_binding(self, binding_id: int) -> Binding:
        b = t.bindings
        with self.engine.connect() as conn:
            row = conn.execute(select(b).where(b.c.id == binding_id)).mappings().first()
        if row is None or (
            self.access is not None and not self.access.allows_id(row["account_id"])
        ):
            raise NotFoundError(f"no binding with id {binding_id}")
        self._write_allowed(row["account_id"])
        with self.engine.begin() as conn:
            conn.execute(delete(b).where(b.c.id == binding_id))
        return Binding(**dict(row))

    def _visible(self, account_id: int) -> bool:
        return self.access is None or self.access.allows_id(account_id)

    def _write_allowed(self, account_id: int) -> None:
        if self.access is not None:
            self.access.check_account_id(account_id)
            self.access.require_write()


def _outbox(conn: Connection, row: tuple[Any, ...]) -> None:
    o = t.webhook_outbox
    account_id, dedup_key, kind, openid, received_ms = row
    conn.execute(
        insert(o).values(
            account_id=account_id,
            dedup_key=dedup_key,
            kind=kind,
            openid=openid,
            received_ms=received_ms,
        )
    )
