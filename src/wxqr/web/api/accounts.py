"""``/api/v1/accounts``: the Official Accounts wxqr serves (never their secrets)."""

from __future__ import annotations

from fastapi import APIRouter

from wxqr.web.api._context import WS
from wxqr.web.api._problems import ProblemRoute
from wxqr.web.api._schemas import AccountOut

__all__ = ["router"]

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=ProblemRoute)


@router.get("", response_model=list[AccountOut], summary="List accounts")
def list_accounts(ws: WS) -> list[AccountOut]:
    return [AccountOut.of(a, ws.codes.permanent_usage(a.id)) for a in ws.accounts()]


@router.get("/{appid}", response_model=AccountOut, summary="One account")
def get_account(appid: str, ws: WS) -> AccountOut:
    account = ws.account(appid)
    return AccountOut.of(account, ws.codes.permanent_usage(account.id))
