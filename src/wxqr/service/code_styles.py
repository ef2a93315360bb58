"""Styled codes: logos uploaded once per account or channel, and a default style saved
per account or group (issue 19 §3).

A style is the drawing options of :class:`~wxqr.service.code_images.ImageSpec` (size or
scale, quiet zone, colours, error level) plus whether to put the logo in the middle.
Before a style is saved or drawn it must pass the scannability rules of
:mod:`wxqr.render` (contrast, never inverted; logo area within what the error level
restores). The channel's image with its style is :meth:`CodeStyles.styled_image`:
the group's style if saved, else the account's, else the plain defaults; the
channel's logo if uploaded, else the account's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from wxqr.render import (
    MAX_LOGO_RATIO,
    ImageBounds,
    ImageRefused,
    StyleRefused,
    check_colours,
    check_logo,
    checked_image,
)
from wxqr.service.channels import Channel, ChannelService
from wxqr.service.code_images import CodeImage, CodeImages, ImageFormat, ImageSpec
from wxqr.service.codes import CodeService
from wxqr.service.errors import InvalidInputError, NotFoundError
from wxqr.store.tables import code_logos, code_styles

__all__ = ["LOGO_BOUNDS", "CodeStyle", "CodeStyles"]

#: Logos: at most 512 KiB (base64 in a JSON body stays under the API bound of 1 MiB)
#: and 1024 × 1024 pixels (they are drawn a few hundred pixels wide).
LOGO_BOUNDS = ImageBounds(max_bytes=512 * 1024, max_pixels=1024 * 1024, min_side=16)
_ACCOUNT = 0  # code_logos.channel_id of the account's logo
_FIELDS = ("scale", "size", "border", "error", "dark", "light", "logo", "logo_ratio")


@dataclass(frozen=True, slots=True)
class CodeStyle:
    """How a channel's code is drawn by default (``logo``: with the stored logo)."""

    scale: int = 10
    size: int | None = None
    border: int = 4
    error: str = "m"
    dark: str = "#000000"
    light: str = "#ffffff"
    logo: bool = False
    logo_ratio: float = 0.2

    @classmethod
    def parse(cls, data: Any) -> CodeStyle:
        """A style from JSON, checked (drawing bounds and the scannability rules)."""
        if not isinstance(data, Mapping):
            raise InvalidInputError("a style is an object", field="style")
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise InvalidInputError(
                f"unknown style fields: {', '.join(sorted(unknown))}", field="style"
            )
        try:
            style = cls(**dict(data))
            if not isinstance(style.logo, bool):
                raise InvalidInputError("logo must be true or false", field="logo")
            if not isinstance(style.logo_ratio, int | float) or isinstance(style.logo_ratio, bool):
                raise InvalidInputError("logo_ratio must be a number", field="logo_ratio")
            style.spec()  # drawing bounds (ImageSpec's checks)
            style.check()
        except (TypeError, AttributeError, ValueError) as exc:
            raise InvalidInputError(f"style: {exc}", field="style") from None
        return style

    def check(self) -> None:
        """The scannability rules: contrast, and the logo's area for the error level
        (a logo raises the level to H when it is drawn)."""
        try:
            check_colours(self.dark, self.light)
            if self.logo:
                if not 0 < self.logo_ratio <= MAX_LOGO_RATIO:
                    raise StyleRefused(f"logo_ratio must be in (0, {MAX_LOGO_RATIO}]")
                check_logo(self.logo_ratio, "H")
        except StyleRefused as exc:
            raise InvalidInputError(f"the code would not scan: {exc}", field="style") from None

    def spec(self, logo: bytes | None = None, fmt: ImageFormat = ImageFormat.PNG) -> ImageSpec:
        return ImageSpec(
            format=fmt,
            scale=self.scale,
            size=self.size,
            border=self.border,
            error=self.error,
            dark=self.dark,
            light=self.light,
            logo=logo if self.logo else None,
            logo_ratio=float(self.logo_ratio),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CodeStyles:
    """Logos and saved styles of an account's codes, and channels' styled images."""

    def __init__(
        self,
        engine: Engine,
        channels: ChannelService,
        codes: CodeService,
        images: CodeImages,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._channels = channels
        self._codes = codes
        self._images = images
        self._clock = clock

    # -- logos -----------------------------------------------------------------------

    def set_logo(self, account_id: int, data: bytes, channel_id: int | None = None) -> str:
        """Store the logo of the account (or of one of its channels); returns its type."""
        if channel_id is not None:
            self._own_channel(account_id, channel_id)
        try:
            checked = checked_image(data, LOGO_BOUNDS, "logo")
        except ImageRefused as exc:
            raise InvalidInputError(str(exc), field="logo") from None
        key = channel_id or _ACCOUNT
        with self._engine.begin() as conn:
            conn.execute(
                delete(code_logos).where(
                    code_logos.c.account_id == account_id, code_logos.c.channel_id == key
                )
            )
            conn.execute(
                insert(code_logos).values(
                    account_id=account_id,
                    channel_id=key,
                    content=data,
                    content_type=checked.content_type,
                    created_at=int(self._clock()),
                )
            )
        return checked.content_type

    def remove_logo(self, account_id: int, channel_id: int | None = None) -> bool:
        if channel_id is not None:
            self._own_channel(account_id, channel_id)
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(code_logos).where(
                    code_logos.c.account_id == account_id,
                    code_logos.c.channel_id == (channel_id or _ACCOUNT),
                )
            ).rowcount
        return bool(gone)

    def logo_of(self, channel: Channel) -> bytes | None:
        """The channel's logo, else its account's, else None."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(code_logos.c.channel_id, code_logos.c.content).where(
                    code_logos.c.account_id == channel.account_id,
                    code_logos.c.channel_id.in_((channel.id, _ACCOUNT)),
                )
            ).all()
        found = {int(row[0]): bytes(row[1]) for row in rows}
        return found.get(channel.id, found.get(_ACCOUNT))

    # -- styles ----------------------------------------------------------------------

    def set_style(self, account_id: int, style: Any, group: str | None = None) -> CodeStyle:
        """Save the default style of the account (or of one group of it)."""
        parsed = style if isinstance(style, CodeStyle) else CodeStyle.parse(style)
        parsed.check()
        key = (group or "").strip()
        with self._engine.begin() as conn:
            conn.execute(
                delete(code_styles).where(
                    code_styles.c.account_id == account_id, code_styles.c.group_name == key
                )
            )
            conn.execute(
                insert(code_styles).values(
                    account_id=account_id,
                    group_name=key,
                    style=parsed.to_dict(),
                    updated_at=int(self._clock()),
                )
            )
        return parsed

    def remove_style(self, account_id: int, group: str | None = None) -> bool:
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(code_styles).where(
                    code_styles.c.account_id == account_id,
                    code_styles.c.group_name == (group or "").strip(),
                )
            ).rowcount
        return bool(gone)

    def styles(self, account_id: int) -> dict[str | None, CodeStyle]:
        """The saved styles: ``None`` for the account's default, else by group."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(code_styles.c.group_name, code_styles.c.style).where(
                    code_styles.c.account_id == account_id
                )
            ).all()
        return {(row[0] or None): CodeStyle(**row[1]) for row in rows}

    def style_of(self, channel: Channel) -> CodeStyle:
        """The group's saved style, else the account's, else the defaults."""
        saved = self.styles(channel.account_id)
        if channel.group and channel.group in saved:
            return saved[channel.group]
        return saved.get(None, CodeStyle())

    # -- images ----------------------------------------------------------------------

    def styled_image(
        self,
        channel_id: int,
        overrides: Mapping[str, Any] | None = None,
        fmt: ImageFormat = ImageFormat.PNG,
    ) -> CodeImage:
        """The image of the channel's current code in its saved style, with ``overrides``
        (any style field) over it; refused when the result would not scan."""
        channel = self._channels.get(channel_id)
        code = self._codes.current_code(channel_id)
        if code is None:
            raise NotFoundError(f"channel {channel_id} has no code yet: issue one first")
        style = self.style_of(channel)
        if overrides:
            style = CodeStyle.parse({**style.to_dict(), **overrides})
        style.check()
        logo = self.logo_of(channel) if style.logo else None
        if style.logo and logo is None:
            raise NotFoundError(
                "no logo uploaded for this channel or its account: upload one first",
                field="logo",
            )
        if fmt is ImageFormat.JPG:
            raise InvalidInputError("styled codes are png or svg", field="format")
        return self._images.image(code, style.spec(logo, fmt))

    def _own_channel(self, account_id: int, channel_id: int) -> None:
        if self._channels.get(channel_id).account_id != account_id:
            raise NotFoundError(f"no channel with id {channel_id}")
