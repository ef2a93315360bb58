"""Temporary-code lifecycle and WeChat quotas in the REST API (issue 19 §1-2):

* ``GET /api/v1/codes?expiring_within=7d`` — channels' current temporary codes that expire
  within the duration (and those already expired), soonest first;
* ``GET|PUT /api/v1/channels/{id}/renewal`` — a channel's auto-renew setting;
* ``GET /api/v1/accounts/{appid}/quota`` — today's ``qrcode/create`` quota (WeChat's count
  and wxqr's) and the permanent codes against WeChat's 100,000 cap.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from wxqr.service.code_lifecycle import ExpiringCode, RenewalSetting, parse_duration
from wxqr.service.quotas import QuotaUsage
from wxqr.web.api._context import WS
from wxqr.web.api._params import ChannelIdPath
from wxqr.web.api._problems import ProblemRoute
from wxqr.web.api._schemas import CodeOut

__all__ = ["accounts_router", "channels_router", "codes_router"]

_DURATION = r"^\d{1,9}[smhdw]?$"

codes_router = APIRouter(prefix="/codes", tags=["codes"], route_class=ProblemRoute)
channels_router = APIRouter(prefix="/channels", tags=["channels"], route_class=ProblemRoute)
accounts_router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=ProblemRoute)


class ExpiringCodeOut(BaseModel):
    channel_id: int
    channel_name: str
    auto_renew: bool
    expired: bool
    code: CodeOut

    @classmethod
    def of(cls, item: ExpiringCode, now: float) -> ExpiringCodeOut:
        return cls(
            channel_id=item.channel_id,
            channel_name=item.channel_name,
            auto_renew=item.auto_renew,
            expired=item.expired,
            code=CodeOut.of(item.code, now),
        )


class RenewalOut(BaseModel):
    channel_id: int
    auto_renew: bool
    lead_seconds: int
    lead_is_default: bool

    @classmethod
    def of(cls, setting: RenewalSetting) -> RenewalOut:
        return cls(
            channel_id=setting.channel_id,
            auto_renew=setting.auto_renew,
            lead_seconds=setting.lead_seconds,
            lead_is_default=not setting.custom_lead,
        )


class RenewalIn(BaseModel):
    auto_renew: bool
    lead_time: str | None = Field(
        default=None,
        pattern=_DURATION,
        description="How long before expiry to renew, e.g. 2d or 36h (null: the default).",
    )


class QuotaOut(BaseModel):
    account: str
    day: str = Field(description="The China calendar day the quota counts (UTC+8).")
    cgi_path: str = "/cgi-bin/qrcode/create"
    daily_limit: int
    used: int
    remaining: int
    source: str = Field(description="Whose count `used` is: wechat, or wxqr when unreachable.")
    wechat_used: int | None
    wxqr_used: int
    permanent_used: int
    permanent_limit: int
    permanent_remaining: int
    note: str | None

    @classmethod
    def of(cls, usage: QuotaUsage) -> QuotaOut:
        return cls(
            account=usage.appid,
            day=usage.day,
            daily_limit=usage.daily_limit,
            used=usage.used,
            remaining=usage.remaining,
            source=usage.source,
            wechat_used=usage.wechat_used,
            wxqr_used=usage.wxqr_used,
            permanent_used=usage.permanent_used,
            permanent_limit=usage.permanent_limit,
            permanent_remaining=usage.permanent_remaining,
            note=usage.note,
        )


@codes_router.get(
    "",
    response_model=list[ExpiringCodeOut],
    summary="Channels' temporary codes expiring within a duration (and expired ones)",
)
def expiring_codes(
    ws: WS,
    account: Annotated[str | None, Query(description="appid (optional with one account)")] = None,
    expiring_within: Annotated[
        str, Query(pattern=_DURATION, description="e.g. 7d (the default), 48h, 90m.")
    ] = "7d",
) -> list[ExpiringCodeOut]:
    acct = ws.account(account)
    found = ws.lifecycle.expiring(acct.id, parse_duration(expiring_within))
    now = ws.clock()
    return [ExpiringCodeOut.of(item, now) for item in found]


@channels_router.get(
    "/{channel_id}/renewal", response_model=RenewalOut, summary="A channel's auto-renew setting"
)
def get_renewal(channel_id: ChannelIdPath, ws: WS) -> RenewalOut:
    return RenewalOut.of(ws.lifecycle.renewal(channel_id))


@channels_router.put(
    "/{channel_id}/renewal",
    response_model=RenewalOut,
    summary="Turn auto-renew of a channel's temporary code on or off",
)
def put_renewal(channel_id: ChannelIdPath, body: RenewalIn, ws: WS) -> RenewalOut:
    lead = (
        None if body.lead_time is None else parse_duration(body.lead_time, field_name="lead_time")
    )
    return RenewalOut.of(ws.lifecycle.set_renewal(channel_id, body.auto_renew, lead))


@accounts_router.get(
    "/{appid}/quota",
    response_model=QuotaOut,
    summary="Today's qrcode/create quota and the permanent codes against WeChat's cap",
)
def account_quota(appid: str, ws: WS) -> QuotaOut:
    return QuotaOut.of(ws.quotas.usage(ws.account(appid)))
