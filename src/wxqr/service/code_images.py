"""Images of codes, cached in ``code_images`` (a ticket's image never changes).

Two sources: WeChat's own JPEG from ``showqrcode`` (``source="wechat"``), or a PNG/SVG
rendered locally from the code's url (``source="render"``, the default: no network, any
size and colours). Each distinct variant (format, scale, border, error level, colours)
is stored once per code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from wxqr.render import ErrorLevel, RenderOptions, render_png, render_svg
from wxqr.service.accounts import Account, get_account_by_id
from wxqr.service.codes import Code, CodeStatus
from wxqr.service.errors import InvalidInputError, NotFoundError, upstream_error
from wxqr.store.tables import code_images
from wxqr.wechat import WeChatError

__all__ = ["CodeImage", "CodeImages", "ImageFetcher", "ImageFormat", "ImageSource", "ImageSpec"]

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
MAX_SCALE = 40
MAX_BORDER = 16
MIN_SIZE, MAX_SIZE = 21, 4096


class ImageFormat(StrEnum):
    PNG = "png"
    SVG = "svg"
    JPG = "jpg"  # WeChat's showqrcode image only


class ImageSource(StrEnum):
    RENDER = "render"
    WECHAT = "wechat"


class ImageFetcher(Protocol):
    """What downloading needs of the WeChat client (``SyncWeChatClient``)."""

    def fetch_qrcode_image(self, ticket: str) -> bytes: ...


CONTENT_TYPES = {
    ImageFormat.PNG: "image/png",
    ImageFormat.SVG: "image/svg+xml",
    ImageFormat.JPG: "image/jpeg",
}


@dataclass(frozen=True, slots=True)
class ImageSpec:
    format: ImageFormat = ImageFormat.PNG
    source: ImageSource = ImageSource.RENDER
    scale: int = 10
    border: int = 4
    error: str = "m"
    dark: str = "#000000"
    light: str = "#ffffff"
    size: int | None = None  # exact width in pixels instead of ``scale``
    # posters: a logo (PNG/JPEG bytes, validated by wxqr.service.code_styles) and its width
    # as a fraction of the symbol's; a logo makes the error level H.
    logo: bytes | None = field(default=None, repr=False)
    logo_ratio: float = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", ImageFormat(self.format))
        object.__setattr__(self, "source", ImageSource(self.source))
        if self.source is ImageSource.WECHAT:
            object.__setattr__(self, "format", ImageFormat.JPG)
        elif self.format is ImageFormat.JPG:
            raise InvalidInputError(
                "JPEG images come only from WeChat (source=wechat)", field="format"
            )
        if not 1 <= self.scale <= MAX_SCALE:
            raise InvalidInputError(f"scale must be 1..{MAX_SCALE}", field="scale")
        if self.size is not None and not MIN_SIZE <= self.size <= MAX_SIZE:
            raise InvalidInputError(f"size must be {MIN_SIZE}..{MAX_SIZE} pixels", field="size")
        if not 0 <= self.border <= MAX_BORDER:
            raise InvalidInputError(f"border must be 0..{MAX_BORDER}", field="border")
        if self.error.lower() not in ("l", "m", "q", "h"):
            raise InvalidInputError("error must be one of l, m, q, h", field="error")
        object.__setattr__(self, "error", self.error.lower())
        for name in ("dark", "light"):
            if not _COLOUR.match(getattr(self, name)):
                raise InvalidInputError(f"{name} must be a #rgb or #rrggbb colour", field=name)
            object.__setattr__(self, name, getattr(self, name).lower())

    @property
    def variant(self) -> str:
        """The cache key of this variant."""
        if self.source is ImageSource.WECHAT:
            return "wechat.jpg"
        return self.render_options().cache_key(self.format.value)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    def render_options(self) -> RenderOptions:
        return RenderOptions(
            scale=self.scale,
            border=self.border,
            error=ErrorLevel(self.error.upper()),
            dark=self.dark,
            light=self.light,
            size=self.size,
            logo=self.logo,  # posters:
            logo_ratio=self.logo_ratio,  # posters:
        )


@dataclass(frozen=True, slots=True)
class CodeImage:
    code_id: int
    content: bytes
    content_type: str
    extension: str
    cached: bool  # served from the cache (True) or made just now (False)


class CodeImages:
    def __init__(
        self,
        engine: Engine,
        fetcher_for: Callable[[Account], AbstractContextManager[ImageFetcher]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._fetcher_for = fetcher_for
        self._clock = clock

    def image(self, code: Code, spec: ImageSpec) -> CodeImage:
        if code.status(self._clock()) is CodeStatus.PENDING or code.url is None:
            raise NotFoundError(f"code {code.id} has no ticket yet: it has no image")
        extension = spec.format.value
        with self._engine.connect() as conn:
            row = conn.execute(
                select(code_images.c.content, code_images.c.content_type).where(
                    code_images.c.scene_ref == code.id, code_images.c.variant == spec.variant
                )
            ).first()
        if row is not None:
            return CodeImage(code.id, bytes(row[0]), str(row[1]), extension, cached=True)
        content = self._make(code, spec)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(code_images).values(
                        scene_ref=code.id,
                        variant=spec.variant,
                        content_type=spec.content_type,
                        content=content,
                        created_at=int(self._clock()),
                    )
                )
        except IntegrityError:  # made concurrently by another request: same bytes
            pass
        return CodeImage(code.id, content, spec.content_type, extension, cached=False)

    def _make(self, code: Code, spec: ImageSpec) -> bytes:
        assert code.url is not None
        if spec.source is ImageSource.RENDER:
            options = spec.render_options()
            try:
                if spec.format is ImageFormat.SVG:
                    return render_svg(code.url, options)
                return render_png(code.url, options)
            except ValueError as exc:  # options this code cannot have: a size below its symbol
                field = "size" if spec.size is not None else None
                raise InvalidInputError(f"the image cannot be made: {exc}", field=field) from None
        account = get_account_by_id(self._engine, code.account_id)
        if account is None or code.ticket is None:  # pragma: no cover - cascades
            raise NotFoundError(f"code {code.id} has no ticket")
        try:
            with self._fetcher_for(account) as fetcher:
                return fetcher.fetch_qrcode_image(code.ticket)
        except WeChatError as exc:
            raise upstream_error(exc, "give the code's image") from None
