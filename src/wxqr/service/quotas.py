"""WeChat's daily quota of ``qrcode/create`` calls, and the 100,000 permanent-code cap.

WeChat allows an account 100,000 ``qrcode/create`` calls a day (temporary and permanent
codes alike, reset at midnight China time) and 100,000 permanent codes in all. A bulk job
that runs into either fails half way, so wxqr looks first: :meth:`QuotaService.check_room`
refuses a job that cannot finish, saying how many it can do today.

Two counts are kept: WeChat's own (``POST /cgi-bin/openapi/quota/get``, asked when the
account has an app secret and WeChat answers) and wxqr's (``wechat_quota_usage``: every
ticket wxqr obtained, by China day — :func:`record_qrcode_call`). WeChat's count is the
authority (other tools may share the account); wxqr's is the fallback when WeChat cannot
be asked, and is shown beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.protocol import PERMANENT_CODE_LIMIT, QRKind
from wxqr.service.accounts import Account, get_account_by_id
from wxqr.service.errors import LimitReachedError
from wxqr.store.tables import scenes, wechat_quota_usage
from wxqr.wechat import ApiQuota, PermanentQRLimitReached, QuotaExceeded, WeChatError

__all__ = [
    "DAILY_QRCODE_LIMIT",
    "QRCODE_CREATE",
    "PermanentCapError",
    "QuotaExhaustedError",
    "QuotaService",
    "QuotaUsage",
    "china_day",
    "quota_error",
    "record_qrcode_call",
]

QRCODE_CREATE = "/cgi-bin/qrcode/create"
#: WeChat's documented daily limit of ``qrcode/create`` per account.
DAILY_QRCODE_LIMIT = 100_000
_CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


class QuotaExhaustedError(LimitReachedError):
    """WeChat's daily quota of an API is used up (45009), or a job would exceed it."""

    title = "WeChat daily quota used up"


class PermanentCapError(LimitReachedError):
    """The account holds (or a job would exceed) WeChat's 100,000 permanent codes (45029)."""

    title = "Permanent code limit reached"


def quota_error(exc: WeChatError, doing: str) -> LimitReachedError | None:
    """The typed error of a quota answer from WeChat (45009/45011, 45029), else None."""
    if isinstance(exc, QuotaExceeded):
        return QuotaExhaustedError(
            f"WeChat's daily quota of qrcode/create is used up: could not {doing}; "
            "it resets at midnight China time (UTC+8)"
        )
    if isinstance(exc, PermanentQRLimitReached):
        return PermanentCapError(
            f"WeChat refused to {doing}: the account holds {PERMANENT_CODE_LIMIT:,} permanent "
            "codes, WeChat's limit; issue temporary codes (with renewal) instead"
        )
    return None


def china_day(unix_time: float) -> str:
    """The calendar day in China (WeChat's quota day) of ``unix_time``, as YYYY-MM-DD."""
    return datetime.fromtimestamp(unix_time, _CHINA).date().isoformat()


def record_qrcode_call(engine: Engine, account_id: int, now: float, count: int = 1) -> None:
    """Count ``count`` successful ``qrcode/create`` calls of the account today."""
    q = wechat_quota_usage
    day = china_day(now)
    key = (q.c.account_id == account_id) & (q.c.cgi_path == QRCODE_CREATE) & (q.c.day == day)
    for _ in range(3):
        with engine.begin() as conn:
            if conn.execute(update(q).where(key).values(used=q.c.used + count)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(q).values(
                            account_id=account_id, cgi_path=QRCODE_CREATE, day=day, used=count
                        )
                    )
                return
            except IntegrityError:  # another process inserted it first: update again
                continue


class QuotaReader(Protocol):
    """What reading WeChat's quota needs of the client (``SyncWeChatClient``)."""

    def api_quota(self, cgi_path: str) -> ApiQuota: ...


ReaderFor = Callable[[Account], AbstractContextManager[QuotaReader]]


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """Today's ``qrcode/create`` quota of an account and its permanent codes."""

    appid: str
    day: str  # China day, YYYY-MM-DD
    daily_limit: int
    used: int  # WeChat's count when it answered, else wxqr's
    remaining: int
    wxqr_used: int  # calls wxqr made today
    wechat_used: int | None  # None: WeChat could not be asked
    source: str  # "wechat" | "wxqr": whose count ``used`` is
    permanent_used: int
    permanent_limit: int
    note: str | None = None  # why WeChat's count is missing

    @property
    def permanent_remaining(self) -> int:
        return max(0, self.permanent_limit - self.permanent_used)


class QuotaService:
    """Read the quota (WeChat's and wxqr's counts) and refuse jobs that cannot finish."""

    def __init__(
        self,
        engine: Engine,
        reader_for: ReaderFor,
        *,
        clock: Callable[[], float] = time.time,
        permanent_limit: int = PERMANENT_CODE_LIMIT,
        daily_limit: int = DAILY_QRCODE_LIMIT,
    ) -> None:
        self._engine = engine
        self._reader_for = reader_for
        self._clock = clock
        self._permanent_limit = permanent_limit
        self._daily_limit = daily_limit

    def own_count(self, account_id: int) -> int:
        """``qrcode/create`` calls wxqr made for the account today."""
        q = wechat_quota_usage
        query = select(q.c.used).where(
            q.c.account_id == account_id,
            q.c.cgi_path == QRCODE_CREATE,
            q.c.day == china_day(self._clock()),
        )
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def permanent_count(self, account_id: int) -> int:
        query = (
            select(func.count())
            .select_from(scenes)
            .where(scenes.c.account_id == account_id, scenes.c.qr_kind == QRKind.PERMANENT.value)
        )
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def usage(self, account: Account) -> QuotaUsage:
        """Today's quota: WeChat's answer when it can be asked, wxqr's own count always."""
        own = self.own_count(account.id)
        wechat: ApiQuota | None = None
        note: str | None = None
        if not account.app_secret:
            note = "the account has no app secret: WeChat cannot be asked"
        else:
            try:
                with self._reader_for(account) as reader:
                    wechat = reader.api_quota(QRCODE_CREATE)
            except WeChatError as exc:
                note = f"WeChat's count is unavailable: {exc}"
        if wechat is not None:
            limit, used, remaining, source = (
                wechat.daily_limit,
                wechat.used,
                wechat.remain,
                "wechat",
            )
        else:
            limit, used, source = self._daily_limit, own, "wxqr"
            remaining = max(0, limit - own)
        return QuotaUsage(
            appid=account.appid,
            day=china_day(self._clock()),
            daily_limit=limit,
            used=used,
            remaining=remaining,
            wxqr_used=own,
            wechat_used=None if wechat is None else wechat.used,
            source=source,
            permanent_used=self.permanent_count(account.id),
            permanent_limit=self._permanent_limit,
            note=note,
        )

    def check_room(
        self, account: Account, calls: int, *, permanent: int = 0, job: str = "this job"
    ) -> QuotaUsage:
        """Refuse ``job`` (``calls`` qrcode/create calls, ``permanent`` of them new
        permanent codes) before any call when today's quota or the permanent cap cannot
        take it; the error says how many it can do today."""
        usage = self.usage(account)
        if permanent > usage.permanent_remaining:
            raise PermanentCapError(
                f"{job} needs {permanent:,} new permanent codes but only "
                f"{usage.permanent_remaining:,} of WeChat's {usage.permanent_limit:,} remain: "
                "issue temporary codes for the rest"
            )
        if calls > usage.remaining:
            raise QuotaExhaustedError(
                f"{job} needs {calls:,} qrcode/create calls but WeChat's daily quota has "
                f"{usage.remaining:,} left today ({usage.used:,} of {usage.daily_limit:,} used): "
                f"it can do {usage.remaining:,} today; the quota resets at midnight China time"
            )
        return usage

    def check_room_of(
        self, account_id: int, calls: int, *, permanent: int = 0, job: str = "this job"
    ) -> QuotaUsage | None:
        """:meth:`check_room` for the account ``account_id`` (None: an account without
        app secret, which cannot issue codes anyway)."""
        account = get_account_by_id(self._engine, account_id)
        if account is None or not account.app_secret:
            return None
        return self.check_room(account, calls, permanent=permanent, job=job)
