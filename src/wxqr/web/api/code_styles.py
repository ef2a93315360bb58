"""Styled codes through the API: logos (per account or channel), the default style saved
per account or group, and a channel's code image in its style."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from wxqr.service.code_images import ImageFormat
from wxqr.service.code_styles import CodeStyle
from wxqr.service.errors import InvalidInputError
from wxqr.web.api._context import WS
from wxqr.web.api._images import image_response
from wxqr.web.api._params import ChannelIdPath
from wxqr.web.api._problems import ProblemRoute

__all__ = ["router"]

router = APIRouter(tags=["styled codes"], route_class=ProblemRoute)

_COLOUR = r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$"


class LogoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    logo: str = Field(description="The PNG or JPEG logo, base64-encoded (at most 512 KiB).")


class LogoOut(BaseModel):
    content_type: str


class Removed(BaseModel):
    removed: bool


class StyleModel(BaseModel):
    """A style: drawing options, and ``logo`` to put the stored logo in the middle."""

    model_config = ConfigDict(extra="forbid")

    scale: int = Field(10, ge=1, le=40)
    size: int | None = Field(None, ge=21, le=4096)
    border: int = Field(4, ge=0, le=16)
    error: Literal["l", "m", "q", "h", "L", "M", "Q", "H"] = "m"
    dark: str = Field("#000000", pattern=_COLOUR)
    light: str = Field("#ffffff", pattern=_COLOUR)
    logo: bool = False
    logo_ratio: float = Field(0.2, gt=0, le=0.3)

    @classmethod
    def of(cls, style: CodeStyle) -> StyleModel:
        return cls(**style.to_dict())


class StyleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = Field(None, description="appid (optional with one account)")
    group: str | None = Field(None, max_length=200, description="None: the account's default")
    style: StyleModel


class StylesOut(BaseModel):
    account: StyleModel | None
    groups: dict[str, StyleModel]


def _logo(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("logo must be base64", field="logo") from None


@router.put("/accounts/{appid}/logo", response_model=LogoOut, summary="Set the account's logo")
def set_account_logo(appid: str, body: LogoIn, ws: WS) -> LogoOut:
    account = ws.account(appid)
    return LogoOut(content_type=ws.code_styles.set_logo(account.id, _logo(body.logo)))


@router.delete("/accounts/{appid}/logo", response_model=Removed, summary="Remove it")
def remove_account_logo(appid: str, ws: WS) -> Removed:
    return Removed(removed=ws.code_styles.remove_logo(ws.account(appid).id))


@router.put(
    "/channels/{channel_id}/logo",
    response_model=LogoOut,
    summary="Set a channel's own logo (over the account's)",
)
def set_channel_logo(channel_id: ChannelIdPath, body: LogoIn, ws: WS) -> LogoOut:
    channel = ws.channels.get(channel_id)
    return LogoOut(
        content_type=ws.code_styles.set_logo(channel.account_id, _logo(body.logo), channel.id)
    )


@router.delete("/channels/{channel_id}/logo", response_model=Removed, summary="Remove it")
def remove_channel_logo(channel_id: ChannelIdPath, ws: WS) -> Removed:
    channel = ws.channels.get(channel_id)
    return Removed(removed=ws.code_styles.remove_logo(channel.account_id, channel.id))


@router.get("/code-styles", response_model=StylesOut, summary="The saved default styles")
def list_styles(ws: WS, account: Annotated[str | None, Query()] = None) -> StylesOut:
    saved = ws.code_styles.styles(ws.account(account).id)
    default = saved.pop(None, None)
    return StylesOut(
        account=StyleModel.of(default) if default is not None else None,
        groups={str(g): StyleModel.of(s) for g, s in saved.items()},
    )


@router.put(
    "/code-styles",
    response_model=StyleModel,
    summary="Save the default style of the account or of a group",
)
def set_style(body: StyleIn, ws: WS) -> StyleModel:
    account = ws.account(body.account)
    saved = ws.code_styles.set_style(account.id, body.style.model_dump(), body.group)
    return StyleModel.of(saved)


@router.delete("/code-styles", response_model=Removed, summary="Remove a saved style")
def remove_style(
    ws: WS,
    account: Annotated[str | None, Query()] = None,
    group: Annotated[str | None, Query(max_length=200)] = None,
) -> Removed:
    return Removed(removed=ws.code_styles.remove_style(ws.account(account).id, group))


@router.get(
    "/channels/{channel_id}/styled-image",
    summary="The channel's code in its saved style (group's, else account's), options over it",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
def styled_image(
    channel_id: ChannelIdPath,
    ws: WS,
    format: Literal["png", "svg"] = "png",
    scale: Annotated[int | None, Query(ge=1, le=40)] = None,
    size: Annotated[int | None, Query(ge=21, le=4096)] = None,
    border: Annotated[int | None, Query(ge=0, le=16)] = None,
    error: Literal["l", "m", "q", "h", "L", "M", "Q", "H"] | None = None,
    dark: Annotated[str | None, Query(pattern=_COLOUR)] = None,
    light: Annotated[str | None, Query(pattern=_COLOUR)] = None,
    logo: bool | None = None,
    logo_ratio: Annotated[float | None, Query(gt=0, le=0.3)] = None,
) -> Response:
    given: dict[str, Any] = {
        "scale": scale,
        "size": size,
        "border": border,
        "error": error,
        "dark": dark,
        "light": light,
        "logo": logo,
        "logo_ratio": logo_ratio,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    image = ws.code_styles.styled_image(channel_id, overrides, ImageFormat(format))
    return image_response(image, f"code-{image.code_id}")
