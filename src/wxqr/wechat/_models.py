"""Typed results of the WeChat API: frozen dataclasses, never raw dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ._errors import UnexpectedResponse

__all__ = ["ApiQuota", "QRTicket", "Tag", "UserCumulateRow", "UserInfo", "UserSummaryRow"]


def _require(body: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise UnexpectedResponse(f"WeChat response lacks a valid {key!r}")
    return value


def _optional(body: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise UnexpectedResponse(f"WeChat response has an invalid {key!r}")
    return value


@dataclass(frozen=True, slots=True)
class QRTicket:
    """A created QR code. ``url`` is what the image encodes (render it locally);
    ``expire_seconds``/``expires_at`` are ``None`` for a permanent code."""

    ticket: str
    url: str
    expire_seconds: int | None
    expires_at: datetime | None

    @classmethod
    def from_response(cls, body: Mapping[str, Any], issued_at: float) -> QRTicket:
        ticket = _require(body, "ticket", str)
        url = _require(body, "url", str)
        expire = _optional(body, "expire_seconds", int)
        expires_at = datetime.fromtimestamp(issued_at + expire, UTC) if expire is not None else None
        return cls(ticket=ticket, url=url, expire_seconds=expire, expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class UserInfo:
    """``cgi-bin/user/info``: whether ``openid`` follows, and how it came (``subscribe_scene``
    such as ``ADD_SCENE_QR_CODE``, with ``qr_scene``/``qr_scene_str`` for QR codes).
    Fields other than ``openid`` and ``subscribed`` are ``None`` for a non-follower."""

    openid: str
    subscribed: bool
    subscribe_time: int | None = None
    subscribe_scene: str | None = None
    qr_scene: int | None = None
    qr_scene_str: str | None = None
    language: str | None = None
    unionid: str | None = None
    remark: str | None = None
    tag_ids: tuple[int, ...] = ()

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> UserInfo:
        subscribe = _require(body, "subscribe", int)
        tag_ids = body.get("tagid_list") or []
        if not isinstance(tag_ids, list) or not all(
            isinstance(t, int) and not isinstance(t, bool) for t in tag_ids
        ):
            raise UnexpectedResponse("WeChat response has an invalid 'tagid_list'")
        qr_scene = _optional(body, "qr_scene", int)
        return cls(
            openid=_require(body, "openid", str),
            subscribed=subscribe == 1,
            subscribe_time=_optional(body, "subscribe_time", int),
            subscribe_scene=_optional(body, "subscribe_scene", str),
            qr_scene=qr_scene or None,
            qr_scene_str=_optional(body, "qr_scene_str", str),
            language=_optional(body, "language", str),
            unionid=_optional(body, "unionid", str),
            remark=_optional(body, "remark", str),
            tag_ids=tuple(tag_ids),
        )


@dataclass(frozen=True, slots=True)
class Tag:
    """A user tag of the account; ``count`` is how many followers carry it."""

    id: int
    name: str
    count: int = 0

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> Tag:
        return cls(
            id=_require(body, "id", int),
            name=_require(body, "name", str),
            count=_optional(body, "count", int) or 0,
        )


@dataclass(frozen=True, slots=True)
class UserSummaryRow:
    """One row of ``datacube/getusersummary``: a day and a ``user_source``
    (30 = scanned a QR code; 0 = other), with WeChat's own new and cancelled users."""

    ref_date: date
    user_source: int
    new_user: int
    cancel_user: int

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> UserSummaryRow:
        raw_date = _require(body, "ref_date", str)
        try:
            ref_date = date.fromisoformat(raw_date)
        except ValueError:
            raise UnexpectedResponse("WeChat response has an invalid 'ref_date'") from None
        return cls(
            ref_date=ref_date,
            user_source=_optional(body, "user_source", int) or 0,
            new_user=_optional(body, "new_user", int) or 0,
            cancel_user=_optional(body, "cancel_user", int) or 0,
        )


@dataclass(frozen=True, slots=True)
class ApiQuota:
    """An API's daily call quota as ``openapi/quota/get`` reports it (reset at midnight,
    China time)."""

    daily_limit: int
    used: int
    remain: int

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> ApiQuota:
        quota = body.get("quota")
        if not isinstance(quota, dict):
            raise UnexpectedResponse("quota/get response lacks 'quota'")
        return cls(
            daily_limit=_require(quota, "daily_limit", int),
            used=_require(quota, "used", int),
            remain=_require(quota, "remain", int),
        )


@dataclass(frozen=True, slots=True)
class UserCumulateRow:
    """One row of ``datacube/getusercumulate``: WeChat's total followers at the end of
    a day (China time)."""

    ref_date: date
    cumulate_user: int

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> UserCumulateRow:
        raw_date = _require(body, "ref_date", str)
        try:
            ref_date = date.fromisoformat(raw_date)
        except ValueError:
            raise UnexpectedResponse("WeChat response has an invalid 'ref_date'") from None
        return cls(ref_date=ref_date, cumulate_user=_optional(body, "cumulate_user", int) or 0)
