"""Request and response bodies of the REST API (pydantic), converted from service values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wxqr.service.accounts import Account
from wxqr.service.channels import Channel
from wxqr.service.code_spec import parse_code_spec
from wxqr.service.codes import Code, CodeSpec, PermanentUsage

__all__ = [
    "AccountOut",
    "ChannelIn",
    "ChannelOut",
    "ChannelPatchIn",
    "CodeIn",
    "CodeOut",
    "iso",
]


def iso(seconds: int | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC time (``None`` stays ``None``)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeIn(_In):
    """The code to issue. Leave ``scene`` out to have wxqr allocate one."""

    kind: Literal["temporary", "permanent"] = "permanent"
    scene_type: Literal["id", "str"] = "id"
    scene: int | str | None = None
    expire_seconds: int | None = Field(
        default=None,
        ge=1,
        le=2_592_000,
        description="Temporary codes only: 1..2592000 (default 30 days).",
    )

    def spec(self) -> CodeSpec:
        """The checked spec (the service's one rule: :func:`parse_code_spec`)."""
        return parse_code_spec(
            self.kind, self.scene_type, self.scene, expire_seconds=self.expire_seconds
        )


class ChannelIn(_In):
    account: str | None = Field(
        default=None, description="The account's appid (optional when there is only one)."
    )
    name: str = Field(min_length=1, max_length=200)
    group: str | None = None
    tags: list[str] = Field(default_factory=list)
    payload: Any = Field(default=None, description="Any JSON (e.g. an order id).")
    reply: dict[str, Any] | None = Field(
        default=None,
        description='Passive reply: {"type":"text","content":…} | {"type":"image",'
        '"media_id":…} | {"type":"news","articles":[…]}.',
    )
    follower_tags: list[str] = Field(default_factory=list)
    code: CodeIn | None = Field(
        default=None, description="Issue the channel's first code in the same call."
    )


class ChannelPatchIn(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    group: str | None = None
    tags: list[str] | None = None
    payload: Any = None
    reply: dict[str, Any] | None = None
    follower_tags: list[str] | None = None
    status: Literal["active", "archived"] | None = None


class CodeOut(BaseModel):
    id: int
    channel_id: int | None
    scene: int | str
    scene_type: str
    kind: str
    status: str
    ticket: str | None
    url: str | None
    expire_seconds: int | None
    expires_at: str | None
    created_at: str | None
    image_url: str

    @classmethod
    def of(cls, code: Code, now: float) -> CodeOut:
        return cls(
            id=code.id,
            channel_id=code.channel_id,
            scene=code.scene_value,
            scene_type=code.scene_type.value,
            kind=code.kind.value,
            status=code.status(now).value,
            ticket=code.ticket,
            url=code.url,
            expire_seconds=code.expire_seconds,
            expires_at=iso(code.expires_at),
            created_at=iso(code.created_at),
            image_url=f"/api/v1/codes/{code.id}/image",
        )


class ChannelOut(BaseModel):
    id: int
    account_id: int
    name: str
    group: str | None
    tags: list[str]
    payload: Any
    reply: dict[str, Any] | None
    follower_tags: list[str]
    status: str
    created_at: str | None
    updated_at: str | None
    code: CodeOut | None = Field(description="The channel's current code (None: none yet).")

    @classmethod
    def of(cls, channel: Channel, code: Code | None, now: float) -> ChannelOut:
        return cls(
            id=channel.id,
            account_id=channel.account_id,
            name=channel.name,
            group=channel.group,
            tags=list(channel.tags),
            payload=channel.payload,
            reply=channel.reply_json(),
            follower_tags=list(channel.follower_tags),
            status=channel.status.value,
            created_at=iso(channel.created_at),
            updated_at=iso(channel.updated_at),
            code=None if code is None else CodeOut.of(code, now),
        )


class AccountOut(BaseModel):
    id: int
    appid: str
    name: str
    original_id: str | None
    encrypt_mode: str
    timezone: str
    has_app_secret: bool
    permanent_codes: int
    permanent_limit: int
    created_at: str | None

    @classmethod
    def of(cls, account: Account, usage: PermanentUsage) -> AccountOut:
        info = account.info()
        return cls(
            id=info.id,
            appid=info.appid,
            name=info.name,
            original_id=info.original_id,
            encrypt_mode=info.encrypt_mode.value,
            timezone=info.timezone,
            has_app_secret=info.has_app_secret,
            permanent_codes=usage.used,
            permanent_limit=usage.limit,
            created_at=iso(info.created_at),
        )
