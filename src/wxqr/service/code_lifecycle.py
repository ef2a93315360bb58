"""Temporary codes near their end: auto-renewal, ``code.expiring`` notices, expiry lists.

A temporary code lives at most 30 days. A channel may be set to **auto-renew**
(:meth:`CodeLifecycle.set_renewal`): the worker's chore (:meth:`CodeLifecycle.run_due`)
issues a new code for the same scene ``lead`` seconds before expiry (default
``WXQR_RENEW_LEAD_SECONDS``, 2 days), which becomes the channel's current code
(:meth:`wxqr.service.codes.CodeService.renew`); WeChat keeps delivering scans of the old
ticket with the same scene, so they keep counting for the channel. The new image is
rendered into the cache at once, and a ``code.renewed`` webhook event goes out.

A current temporary code of a channel that does not renew gets one ``code.expiring``
event ``WXQR_EXPIRING_NOTICE_SECONDS`` before it expires.

Renewals are bulk work: the chore checks WeChat's daily quota first and, when it cannot
renew everything due, renews the soonest-expiring codes it can and says how many it left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, insert, select, update

from wxqr.protocol import QRKind
from wxqr.service.access import AccountAccess
from wxqr.service.accounts import get_account_by_id
from wxqr.service.channels import ChannelStatus
from wxqr.service.code_events import (
    EXPIRING,
    RENEWED,
    expiring_key,
    record_outbox,
    renewed_key,
)
from wxqr.service.codes import Code, CodeService, CodeStatus
from wxqr.service.errors import (
    ForbiddenError,
    InvalidInputError,
    LimitReachedError,
    NotFoundError,
    ServiceError,
)
from wxqr.service.quotas import QuotaService
from wxqr.store.tables import channel_renewals, channels, code_lifecycle, scenes

__all__ = [
    "DEFAULT_EXPIRING_NOTICE_SECONDS",
    "DEFAULT_RENEW_LEAD_SECONDS",
    "MAX_LEAD_SECONDS",
    "CodeLifecycle",
    "ExpiringCode",
    "LifecycleRun",
    "RenewalSetting",
    "parse_duration",
]

log = logging.getLogger(__name__)

DEFAULT_RENEW_LEAD_SECONDS = 2 * 86400
DEFAULT_EXPIRING_NOTICE_SECONDS = 3 * 86400
#: A lead longer than a temporary code's longest life would renew at once, forever.
MAX_LEAD_SECONDS = 29 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, *, field_name: str = "within") -> int:
    """Seconds of a duration such as ``7d``, ``48h``, ``90m``, ``30s``, ``2w`` (or bare
    seconds); :class:`InvalidInputError` naming ``field_name`` otherwise."""
    raw = text.strip().lower()
    unit = raw[-1:] if raw[-1:] in _UNITS else "s"
    number = raw[:-1] if raw[-1:] in _UNITS else raw
    if not number.isdigit() or len(number) > 9:
        raise InvalidInputError(
            f"{text!r} is not a duration: use e.g. 7d, 48h, 90m (days, hours, minutes)",
            field=field_name,
        )
    return int(number) * _UNITS[unit]


@dataclass(frozen=True, slots=True)
class RenewalSetting:
    channel_id: int
    auto_renew: bool
    lead_seconds: int  # effective lead time
    custom_lead: bool  # False: the install's default (WXQR_RENEW_LEAD_SECONDS)


@dataclass(frozen=True, slots=True)
class ExpiringCode:
    """A channel's current temporary code that expires (or expired) soon."""

    code: Code
    channel_id: int
    channel_name: str
    auto_renew: bool
    expired: bool


@dataclass
class LifecycleRun:
    """What one :meth:`CodeLifecycle.run_due` did."""

    renewed: list[tuple[int, int]] = field(default_factory=list)  # (old id, new id)
    notified: list[int] = field(default_factory=list)  # code ids given code.expiring
    failed: list[tuple[int, str]] = field(default_factory=list)  # (code id, why)
    refused: str | None = None  # the quota's answer when not everything could be renewed


class CodeLifecycle:
    """Renewal settings, the expiring list and the worker's renewal chore."""

    def __init__(
        self,
        engine: Engine,
        codes: CodeService,
        *,
        quotas: QuotaService | None = None,
        warm: Callable[[Code], object] | None = None,
        clock: Callable[[], float] = time.time,
        default_lead_seconds: int = DEFAULT_RENEW_LEAD_SECONDS,
        expiring_notice_seconds: int = DEFAULT_EXPIRING_NOTICE_SECONDS,
        access: AccountAccess | None = None,
    ) -> None:
        self._engine = engine
        self._codes = codes
        self._quotas = quotas
        self._warm = warm
        self._clock = clock
        self._default_lead = default_lead_seconds
        self._notice = expiring_notice_seconds
        self._access = access  # an API key's scope: other accounts' channels are not found

    @property
    def default_lead_seconds(self) -> int:
        return self._default_lead

    @property
    def expiring_notice_seconds(self) -> int:
        return self._notice

    def _channel_account(self, channel_id: int) -> int:
        """The channel's account id (NotFoundError outside the scope or when unknown)."""
        with self._engine.connect() as conn:
            account_id = conn.execute(
                select(channels.c.account_id).where(channels.c.id == channel_id)
            ).scalar()
        if account_id is None or (
            self._access is not None and not self._access.allows_id(int(account_id))
        ):
            raise NotFoundError(f"no channel with id {channel_id}")
        return int(account_id)

    # -- settings ----------------------------------------------------------------------
    def renewal(self, channel_id: int) -> RenewalSetting:
        """The channel's renewal setting (off, with the default lead, when never set)."""
        self._channel_account(channel_id)
        r = channel_renewals
        with self._engine.connect() as conn:
            row = conn.execute(select(r).where(r.c.channel_id == channel_id)).mappings().first()
        if row is None:
            return RenewalSetting(channel_id, False, self._default_lead, False)
        lead = row["lead_seconds"]
        return RenewalSetting(
            channel_id,
            bool(row["auto_renew"]),
            self._default_lead if lead is None else int(lead),
            lead is not None,
        )

    def set_renewal(
        self, channel_id: int, auto_renew: bool, lead_seconds: int | None = None
    ) -> RenewalSetting:
        """Turn auto-renew on or off; ``lead_seconds`` None = the install's default."""
        if lead_seconds is not None and not 60 <= lead_seconds <= MAX_LEAD_SECONDS:
            raise InvalidInputError(
                f"the renewal lead time must be 1 minute..{MAX_LEAD_SECONDS // 86400} days",
                field="lead_time",
            )
        self._channel_account(channel_id)
        if self._access is not None:
            self._access.require_write()
        r = channel_renewals
        now = int(self._clock())
        values = {"auto_renew": auto_renew, "lead_seconds": lead_seconds, "updated_at": now}
        with self._engine.begin() as conn:
            if not conn.execute(
                update(r).where(r.c.channel_id == channel_id).values(values)
            ).rowcount:
                conn.execute(insert(r).values(channel_id=channel_id, **values))
        return self.renewal(channel_id)

    # -- listing -----------------------------------------------------------------------
    def expiring(
        self, account_id: int, within_seconds: int, *, include_expired: bool = True
    ) -> list[ExpiringCode]:
        """Channels' current temporary codes expiring within ``within_seconds`` (and, with
        ``include_expired``, those already expired), soonest first."""
        if self._access is not None:
            self._access.check_account_id(account_id)
        now = int(self._clock())
        s, c, r = scenes, channels, channel_renewals
        query = (
            select(s.c.id, s.c.channel_id, c.c.name, r.c.auto_renew)
            .join(c, c.c.id == s.c.channel_id)
            .outerjoin(r, r.c.channel_id == s.c.channel_id)
            .where(
                s.c.account_id == account_id,
                s.c.qr_kind == QRKind.TEMPORARY.value,
                s.c.ticket.is_not(None),
                s.c.expires_at <= now + within_seconds,
            )
        )
        if not include_expired:
            query = query.where(s.c.expires_at > now)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        current = self._codes.current_codes(sorted({row.channel_id for row in rows}))
        found: list[ExpiringCode] = []
        for row in rows:
            code = current.get(row.channel_id)
            if code is None or code.id != row.id:
                continue  # replaced by a newer code: not what the channel shows
            found.append(
                ExpiringCode(
                    code=code,
                    channel_id=row.channel_id,
                    channel_name=row.name,
                    auto_renew=bool(row.auto_renew),
                    expired=code.status(now) is CodeStatus.EXPIRED,
                )
            )
        found.sort(key=lambda item: (item.code.expires_at or 0, item.code.id))
        return found

    # -- the worker's chore ------------------------------------------------------------
    def run_due(self) -> LifecycleRun:
        """Renew the codes due for renewal, then send the ``code.expiring`` notices due."""
        if self._access is not None:
            raise ForbiddenError("the renewal chore needs access to every account")
        run = LifecycleRun()
        self._renew_due(run)
        self._notify_expiring(run)
        return run

    def _due_renewals(self, now: int) -> dict[int, list[Code]]:
        """Per account: current temporary codes of auto-renew channels within their lead."""
        s, r, life = scenes, channel_renewals, code_lifecycle
        lead = r.c.lead_seconds
        query = (
            select(s.c.id, s.c.channel_id, s.c.expires_at, lead)
            .join(r, r.c.channel_id == s.c.channel_id)
            .join(channels, channels.c.id == s.c.channel_id)
            .outerjoin(life, life.c.scene_ref == s.c.id)
            .where(
                r.c.auto_renew.is_(True),
                channels.c.status == ChannelStatus.ACTIVE.value,  # archived: no quota spent
                s.c.qr_kind == QRKind.TEMPORARY.value,
                s.c.ticket.is_not(None),
                s.c.expires_at.is_not(None),
                life.c.renewed_to.is_(None),
            )
        )
        with self._engine.connect() as conn:
            rows = [
                row
                for row in conn.execute(query).all()
                if row.expires_at - (self._default_lead if row[3] is None else row[3]) <= now
            ]
        current = self._codes.current_codes(sorted({row.channel_id for row in rows}))
        due: dict[int, list[Code]] = {}
        for row in rows:
            code = current.get(row.channel_id)
            if code is not None and code.id == row.id:
                due.setdefault(code.account_id, []).append(code)
        for codes in due.values():
            codes.sort(key=lambda code: (code.expires_at or 0, code.id))
        return due

    def _renew_due(self, run: LifecycleRun) -> None:
        now = int(self._clock())
        for account_id, due in self._due_renewals(now).items():
            if self._quotas is not None:
                account = get_account_by_id(self._engine, account_id)
                if account is None:
                    continue
                try:
                    self._quotas.check_room(account, len(due), job="renewing expiring codes")
                except LimitReachedError as exc:
                    usage = self._quotas.usage(account)
                    run.refused = exc.detail
                    log.warning("%s; renewing the %d soonest now", exc.detail, usage.remaining)
                    due = due[: usage.remaining]
            for code in due:
                try:
                    new = self._codes.renew(code.id)
                except LimitReachedError as exc:  # 45009 / 45029: stop cleanly
                    run.failed.append((code.id, exc.detail))
                    run.refused = exc.detail
                    log.warning("renewals stopped: %s", exc.detail)
                    break
                except ServiceError as exc:
                    run.failed.append((code.id, exc.detail))
                    log.warning("could not renew code %d: %s", code.id, exc.detail)
                    continue
                self._record_renewal(code, new)
                run.renewed.append((code.id, new.id))
                if self._warm is not None:
                    try:
                        self._warm(new)
                    except Exception:  # the image is made again on first use
                        log.warning("could not warm the image cache of code %d", new.id)

    def _record_renewal(self, old: Code, new: Code) -> None:
        at = int(self._clock())
        life = code_lifecycle
        with self._engine.begin() as conn:
            values = {"renewed_to": new.id, "renewed_at": at}
            if not conn.execute(
                update(life).where(life.c.scene_ref == old.id).values(values)
            ).rowcount:
                conn.execute(insert(life).values(scene_ref=old.id, **values))
            record_outbox(conn, old.account_id, RENEWED, renewed_key(old.id, new.id))

    def _notify_expiring(self, run: LifecycleRun) -> None:
        now = int(self._clock())
        s, r, life = scenes, channel_renewals, code_lifecycle
        query = (
            select(s.c.id, s.c.channel_id, s.c.account_id)
            .join(channels, channels.c.id == s.c.channel_id)
            .outerjoin(r, r.c.channel_id == s.c.channel_id)
            .outerjoin(life, life.c.scene_ref == s.c.id)
            .where(
                channels.c.status == ChannelStatus.ACTIVE.value,
                s.c.qr_kind == QRKind.TEMPORARY.value,
                s.c.ticket.is_not(None),
                s.c.expires_at > now,
                s.c.expires_at <= now + self._notice,
                (r.c.auto_renew.is_(None)) | (r.c.auto_renew.is_(False)),
                life.c.expiring_sent_at.is_(None),
                life.c.renewed_to.is_(None),
            )
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        current = self._codes.current_codes(sorted({row.channel_id for row in rows}))
        for row in rows:
            code = current.get(row.channel_id)
            if code is None or code.id != row.id:
                continue
            with self._engine.begin() as conn:
                changed = conn.execute(
                    update(life)
                    .where(life.c.scene_ref == row.id, life.c.expiring_sent_at.is_(None))
                    .values(expiring_sent_at=now)
                ).rowcount
                if not changed:
                    exists = conn.execute(
                        select(life.c.scene_ref).where(life.c.scene_ref == row.id)
                    ).first()
                    if exists is not None:
                        continue  # sent meanwhile by another worker
                    conn.execute(insert(life).values(scene_ref=row.id, expiring_sent_at=now))
                record_outbox(conn, row.account_id, EXPIRING, expiring_key(row.id))
            run.notified.append(row.id)
