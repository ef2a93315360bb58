"""QR codes of channels: scene allocation, tickets from WeChat, expiry, the permanent limit.

A code is one row of ``scenes``: a scene value (unique per account whatever the kind, as
WeChat's ``EventKey`` carries only the value), its kind (temporary or permanent), its
ticket and url, and for a temporary code its expiry. Scenes are chosen by the user or
allocated here:

* permanent integer ids come from ``accounts.next_permanent_scene_id`` (1..100,000), are
  never reused, and skip ids the user already took by hand;
* temporary integer ids are drawn at random above the permanent range;
* string scenes are generated (``c<channel id>-<random>``), unique per account.

WeChat allows 100,000 permanent codes per account; wxqr counts its own and refuses the
next one with :class:`LimitReachedError` before asking WeChat.

Issuing reserves the scene (a row without a ticket: ``pending``), asks WeChat, then stores
the ticket, or drops the reservation if WeChat refused. A process that dies in between
leaves the reservation pending; :meth:`CodeService.resume_abandoned` (run by the
background worker every few minutes, and by ``wxqr code resume``) finishes it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from wxqr.protocol import (
    MAX_EXPIRE_SECONDS,
    MAX_PERMANENT_SCENE_ID,
    MAX_TEMPORARY_SCENE_ID,
    PERMANENT_CODE_LIMIT,
    InvalidQRRequest,
    QRKind,
    QRRequest,
)
from wxqr.service.accounts import Account, get_account_by_id
from wxqr.service.catalog_version import CatalogVersion
from wxqr.service.errors import (
    ConflictError,
    InvalidInputError,
    LimitReachedError,
    NotFoundError,
    upstream_error,
)
from wxqr.service.quotas import quota_error, record_qrcode_call  # lifecycle:
from wxqr.service.session_scenes import SESSION_SCENE_PREFIX  # scan-sessions:
from wxqr.store.tables import accounts, channels, scenes
from wxqr.wechat import (
    APIError,
    QRTicket,
    QuotaExceeded,
    SystemBusy,
    TokenError,
    WeChatError,
)

__all__ = [
    "ABANDONED_AFTER_SECONDS",
    "Code",
    "CodeService",
    "CodeSpec",
    "CodeStatus",
    "PermanentUsage",
    "QRIssuer",
    "ResumedReservations",
    "SceneType",
]


# A reservation this old has outlived every call to WeChat (the client gives up after
# seconds): the process that made it is gone.
ABANDONED_AFTER_SECONDS = 600.0


class SceneType(StrEnum):
    ID = "id"
    STR = "str"


class CodeStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    PENDING = "pending"  # reserved, ticket not (yet) issued


class QRIssuer(Protocol):
    """What issuing needs of the WeChat client (``wxqr.wechat.SyncWeChatClient``)."""

    def create_qrcode(self, request: QRRequest) -> QRTicket: ...


IssuerFor = Callable[[Account], AbstractContextManager[QRIssuer]]


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """What code to issue. ``scene`` None = allocate one of ``scene_type``."""

    kind: QRKind = QRKind.PERMANENT
    scene_type: SceneType = SceneType.ID
    scene: int | str | None = None
    expire_seconds: int | None = None  # temporary only; default 30 days


@dataclass(frozen=True, slots=True)
class Code:
    id: int
    account_id: int
    channel_id: int | None
    scene: str
    scene_type: SceneType
    kind: QRKind
    ticket: str | None
    url: str | None
    expire_seconds: int | None
    expires_at: int | None
    created_at: int

    @property
    def scene_value(self) -> int | str:
        return int(self.scene) if self.scene_type is SceneType.ID else self.scene

    def status(self, now: float) -> CodeStatus:
        if self.ticket is None or self.url is None:
            return CodeStatus.PENDING
        if self.expires_at is not None and self.expires_at <= now:
            return CodeStatus.EXPIRED
        return CodeStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class PermanentUsage:
    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class ResumedReservations:
    """What :meth:`CodeService.resume_abandoned` did, by code id."""

    issued: list[int]  # now hold their ticket
    released: list[int]  # WeChat refused them: dropped, as a refused issue would be
    left: list[int]  # WeChat could not be asked (unreachable, busy, credentials): next time


def _refused(exc: WeChatError) -> bool:
    """Whether WeChat answered no to the request itself (not busy, quota or credentials)."""
    return isinstance(exc, APIError) and not isinstance(
        exc, SystemBusy | QuotaExceeded | TokenError
    )


def _code(row: RowMapping) -> Code:
    return Code(
        id=row["id"],
        account_id=row["account_id"],
        channel_id=row["channel_id"],
        scene=row["scene"],
        scene_type=SceneType(row["scene_type"]),
        kind=QRKind(row["qr_kind"]),
        ticket=row["ticket"],
        url=row["url"],
        expire_seconds=row["expire_seconds"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
    )


def _validated_request(spec: CodeSpec, scene: int | str) -> QRRequest:
    try:
        if spec.kind is QRKind.PERMANENT:
            if spec.expire_seconds is not None:
                raise InvalidInputError("a permanent code has no expiry", field="expire_seconds")
            return QRRequest.permanent(scene)
        return QRRequest.temporary(scene, spec.expire_seconds or MAX_EXPIRE_SECONDS)
    except InvalidQRRequest as exc:
        raise InvalidInputError(str(exc), field="scene") from None


class CodeService:
    """Issue and look up codes. ``issuer_for(account)`` gives the WeChat client to use."""

    def __init__(
        self,
        engine: Engine,
        issuer_for: IssuerFor,
        *,
        catalog: CatalogVersion,
        clock: Callable[[], float] = time.time,
        permanent_limit: int = PERMANENT_CODE_LIMIT,
    ) -> None:
        self._engine = engine
        self._catalog = catalog  # bumped after changes the webhook caches
        self._issuer_for = issuer_for
        self._clock = clock
        self._permanent_limit = permanent_limit

    # -- reading ---------------------------------------------------------------------------
    def get(self, code_id: int) -> Code:
        with self._engine.connect() as conn:
            row = conn.execute(select(scenes).where(scenes.c.id == code_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no code with id {code_id}")
        return _code(row)

    def codes_of(self, channel_id: int) -> list[Code]:
        """The channel's codes, newest first."""
        query = select(scenes).where(scenes.c.channel_id == channel_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(scenes.c.id.desc())).mappings().all()
        return [_code(row) for row in rows]

    def current_codes(self, channel_ids: list[int]) -> dict[int, Code]:
        """Per channel: its newest active code, else its newest issued one (if any)."""
        if not channel_ids:
            return {}
        query = select(scenes).where(
            scenes.c.channel_id.in_(channel_ids), scenes.c.ticket.is_not(None)
        )
        now = self._clock()
        best: dict[int, Code] = {}
        with self._engine.connect() as conn:
            for row in conn.execute(query.order_by(scenes.c.id.desc())).mappings():
                code = _code(row)
                assert code.channel_id is not None
                held = best.get(code.channel_id)
                if held is None or (
                    held.status(now) is CodeStatus.EXPIRED and code.status(now) is CodeStatus.ACTIVE
                ):
                    best[code.channel_id] = code
        return best

    def current_code(self, channel_id: int) -> Code | None:
        return self.current_codes([channel_id]).get(channel_id)

    def permanent_usage(self, account_id: int) -> PermanentUsage:
        with self._engine.connect() as conn:
            used = self._permanent_count(conn, account_id)
        return PermanentUsage(used=used, limit=self._permanent_limit)

    # -- issuing ---------------------------------------------------------------------------
    def issue(self, channel_id: int, spec: CodeSpec) -> Code:
        """Allocate (or check) the scene, get a ticket from WeChat, store the code."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(channels.c.account_id).where(channels.c.id == channel_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no channel with id {channel_id}")
        account = get_account_by_id(self._engine, int(row[0]))
        if account is None:  # pragma: no cover - cascaded away with the channel
            raise NotFoundError("the channel's account no longer exists")
        if not account.app_secret:
            raise InvalidInputError(
                f"account {account.appid} has no app secret: wxqr cannot ask WeChat for a "
                "ticket (set it with `wxqr account` first)",
                field="account",
            )
        code_id, request = self._reserve(account.id, channel_id, spec)
        try:
            with self._issuer_for(account) as issuer:
                ticket = issuer.create_qrcode(request)
        except WeChatError as exc:
            self._release(code_id)
            raise quota_error(exc, "issue the code") or upstream_error(
                exc, "issue the code"
            ) from None
        except BaseException:
            self._release(code_id)
            raise
        record_qrcode_call(self._engine, account.id, self._clock())  # lifecycle: own count
        self._store_ticket(code_id, request, ticket)
        return self.get(code_id)

    def renew(self, code_id: int) -> Code:
        """lifecycle: a new temporary code for the scene of ``code`` (same lifetime),
        which becomes the scene's code: the old row keeps its ticket, channel and events
        under the scene ``~<id>~<scene>``, while pushes of the scene (WeChat's EventKey,
        whichever ticket was scanned) name the new code, so both tickets count for the
        channel. WeChat is asked first: a refusal leaves everything as it was."""
        old = self.get(code_id)
        if old.kind is not QRKind.TEMPORARY or old.ticket is None:
            raise InvalidInputError("only an issued temporary code can be renewed", field="code")
        account = get_account_by_id(self._engine, old.account_id)
        if account is None or not account.app_secret:
            raise InvalidInputError("the code's account has no app secret", field="account")
        spec = CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=old.expire_seconds)
        request = _validated_request(spec, old.scene_value)
        try:
            with self._issuer_for(account) as issuer:
                ticket = issuer.create_qrcode(request)
        except WeChatError as exc:
            raise quota_error(exc, "renew the code") or upstream_error(
                exc, "renew the code"
            ) from None
        now = int(self._clock())
        record_qrcode_call(self._engine, account.id, now)
        lifetime = ticket.expire_seconds or request.expire_seconds or 0
        with self._engine.begin() as conn:
            reply = conn.execute(select(scenes.c.reply).where(scenes.c.id == old.id)).scalar()
            moved = conn.execute(
                update(scenes)
                .where(scenes.c.id == old.id, scenes.c.scene == old.scene)
                .values(scene=f"~{old.id}~{old.scene}"[:64])
            ).rowcount
            if not moved:
                raise ConflictError(f"code {old.id} was renewed or retired meanwhile")
            result = conn.execute(
                insert(scenes).values(
                    account_id=old.account_id,
                    channel_id=old.channel_id,
                    scene=old.scene,
                    scene_type=old.scene_type.value,
                    qr_kind=QRKind.TEMPORARY.value,
                    ticket=ticket.ticket,
                    url=ticket.url,
                    expire_seconds=lifetime,
                    expires_at=now + lifetime,  # by this service's clock, as run_due's
                    reply=reply,
                    created_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
        self._catalog.bump()
        return self.get(int(key[0]))

    def resume_abandoned(
        self, older_than_seconds: float = ABANDONED_AFTER_SECONDS
    ) -> ResumedReservations:
        """Finish the reservations a dead process left pending for longer than
        ``older_than_seconds``: ask WeChat again for the same scene (a permanent scene
        gets its ticket back; a temporary one a new ticket, its lifetime counted from
        now), drop those WeChat refuses, keep the others for the next call."""
        cutoff = int(self._clock() - older_than_seconds)
        query = select(scenes).where(scenes.c.ticket.is_(None), scenes.c.created_at <= cutoff)
        with self._engine.connect() as conn:
            abandoned = [_code(row) for row in conn.execute(query.order_by(scenes.c.id)).mappings()]
        result = ResumedReservations(issued=[], released=[], left=[])
        owners: dict[int, Account | None] = {}
        for code in abandoned:
            if code.account_id not in owners:
                owners[code.account_id] = get_account_by_id(self._engine, code.account_id)
            account = owners[code.account_id]
            if account is None or not account.app_secret:
                result.left.append(code.id)
                continue
            spec = CodeSpec(kind=code.kind, expire_seconds=code.expire_seconds)
            request = _validated_request(spec, code.scene_value)
            try:
                with self._issuer_for(account) as issuer:
                    ticket = issuer.create_qrcode(request)
            except WeChatError as exc:
                if _refused(exc):
                    self._release(code.id)
                    result.released.append(code.id)
                else:
                    result.left.append(code.id)
                continue
            record_qrcode_call(self._engine, account.id, self._clock())  # lifecycle:
            if self._store_ticket(code.id, request, ticket):  # else another process did
                result.issued.append(code.id)
        return result

    def _store_ticket(self, code_id: int, request: QRRequest, ticket: QRTicket) -> bool:
        """Store the ticket of a reservation still without one; whether it was stored."""
        expires_at = None
        if request.kind is QRKind.TEMPORARY:  # lifecycle: by this service's clock
            expires_at = int(self._clock()) + (ticket.expire_seconds or request.expire_seconds or 0)
        with self._engine.begin() as conn:
            stored = conn.execute(
                update(scenes)
                .where(scenes.c.id == code_id, scenes.c.ticket.is_(None))
                .values(
                    ticket=ticket.ticket,
                    url=ticket.url,
                    expire_seconds=ticket.expire_seconds or request.expire_seconds,
                    expires_at=expires_at,
                )
            ).rowcount
        self._catalog.bump()
        return bool(stored)

    def _reserve(self, account_id: int, channel_id: int, spec: CodeSpec) -> tuple[int, QRRequest]:
        """Take the scene (and count it) in one transaction serialised per account."""
        with self._engine.begin() as conn:
            # Take the account row's write lock first: reservations of one account queue up.
            conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(next_permanent_scene_id=accounts.c.next_permanent_scene_id)
            )
            if spec.kind is QRKind.PERMANENT:
                used = self._permanent_count(conn, account_id)
                if used >= self._permanent_limit:
                    raise LimitReachedError(
                        f"this account already holds {used} permanent codes, WeChat's limit "
                        f"is {self._permanent_limit}: issue a temporary code instead"
                    )
            scene = self._scene_for(conn, account_id, channel_id, spec)
            request = _validated_request(spec, scene)
            now = int(self._clock())
            values = {
                "account_id": account_id,
                "channel_id": channel_id,
                "scene": str(scene),
                "scene_type": (SceneType.STR if isinstance(scene, str) else SceneType.ID).value,
                "qr_kind": request.kind.value,
                "expire_seconds": request.expire_seconds,
                "created_at": now,
            }
            try:
                with conn.begin_nested():
                    result = conn.execute(insert(scenes).values(values))
            except IntegrityError:
                raise ConflictError(
                    f"scene {scene!r} is already used in this account", field="scene"
                ) from None
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0]), request

    def _scene_for(
        self, conn: Connection, account_id: int, channel_id: int, spec: CodeSpec
    ) -> int | str:
        if spec.scene is not None:
            scene = spec.scene
            if isinstance(scene, str) and scene.startswith(SESSION_SCENE_PREFIX):  # scan-sessions:
                raise InvalidInputError(  # scan-sessions: the namespace of session codes
                    f"scenes starting with {SESSION_SCENE_PREFIX!r} are reserved for scan sessions",
                    field="scene",
                )
            if isinstance(scene, str) and spec.scene_type is SceneType.ID:
                if not scene.strip().isdigit():
                    raise InvalidInputError(
                        f"scene {scene!r} is not an integer scene id", field="scene"
                    )
                scene = int(scene)
            # scan-sessions: a temporary scene may be issued again once its code expired.
            if self._taken(conn, account_id, str(scene)) and not self._retire_expired(
                conn, account_id, str(scene)
            ):
                raise ConflictError(
                    f"scene {scene!r} is already used in this account", field="scene"
                )
            return scene
        if spec.scene_type is SceneType.STR:
            for _ in range(20):
                candidate = f"c{channel_id}-{secrets.token_hex(4)}"
                if not self._taken(conn, account_id, candidate):
                    return candidate
            raise ConflictError("could not find a free string scene")  # pragma: no cover
        if spec.kind is QRKind.TEMPORARY:
            for _ in range(20):
                number = (
                    MAX_PERMANENT_SCENE_ID
                    + 1
                    + secrets.randbelow(MAX_TEMPORARY_SCENE_ID - MAX_PERMANENT_SCENE_ID)
                )
                if not self._taken(conn, account_id, str(number)):
                    return number
            raise ConflictError("could not find a free temporary scene id")  # pragma: no cover
        return self._next_permanent_id(conn, account_id)

    def _next_permanent_id(self, conn: Connection, account_id: int) -> int:
        """The next never-used permanent id, skipping ids taken by hand; advances the pool."""
        current = conn.execute(
            select(accounts.c.next_permanent_scene_id).where(accounts.c.id == account_id)
        ).scalar_one()
        candidate = max(1, int(current))
        while candidate <= MAX_PERMANENT_SCENE_ID and self._taken(conn, account_id, str(candidate)):
            candidate += 1
        if candidate > MAX_PERMANENT_SCENE_ID:
            raise LimitReachedError(
                f"every permanent integer scene id 1..{MAX_PERMANENT_SCENE_ID} has been used "
                "(ids are never reused): use a string scene or a temporary code"
            )
        conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(next_permanent_scene_id=candidate + 1)
        )
        return candidate

    def _retire_expired(self, conn: Connection, account_id: int, scene: str) -> bool:
        """Free ``scene`` when the code holding it is a temporary one that has expired
        (WeChat lets a temporary scene be issued again): the old code keeps its row and
        its events under the scene ``~<id>~<scene>``; pushes of the scene now name the
        new code. Whether the scene was freed."""
        row = conn.execute(
            select(scenes.c.id, scenes.c.qr_kind, scenes.c.expires_at).where(
                scenes.c.account_id == account_id, scenes.c.scene == scene
            )
        ).first()
        if (
            row is None
            or row.qr_kind != QRKind.TEMPORARY.value
            or row.expires_at is None
            or row.expires_at >= int(self._clock())
        ):
            return False
        conn.execute(
            update(scenes).where(scenes.c.id == row.id).values(scene=f"~{row.id}~{scene}"[:64])
        )
        return True

    @staticmethod
    def _taken(conn: Connection, account_id: int, scene: str) -> bool:
        query = select(scenes.c.id).where(
            scenes.c.account_id == account_id, scenes.c.scene == scene
        )
        return conn.execute(query).first() is not None

    @staticmethod
    def _permanent_count(conn: Connection, account_id: int) -> int:
        query = select(func.count()).select_from(scenes)
        query = query.where(
            scenes.c.account_id == account_id, scenes.c.qr_kind == QRKind.PERMANENT.value
        )
        return int(conn.execute(query).scalar_one())

    def _release(self, code_id: int) -> None:
        """Drop a reservation WeChat refused (a permanent id stays used: never reused)."""
        with self._engine.begin() as conn:
            conn.execute(delete(scenes).where(scenes.c.id == code_id, scenes.c.ticket.is_(None)))
