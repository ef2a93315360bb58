""":class:`PosterService` and :class:`CodeStyles` limited to an API key's scope (see
:mod:`wxqr.service.access`).

A template (or a channel's logo) of another account is not found (the same message as
one that does not exist); a read-only key may list, preview and render, never add,
change or remove.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Self

from wxqr.service.access import AccountAccess
from wxqr.service.channels import Channel, ChannelService
from wxqr.service.code_images import CodeImage, CodeImages, ImageFormat
from wxqr.service.code_styles import CodeStyle, CodeStyles
from wxqr.service.codes import CodeService
from wxqr.service.errors import NotFoundError
from wxqr.service.posters import Poster, PosterService, PosterTemplate, PosterZip

__all__ = ["ScopedCodeStyles", "ScopedPosterService"]


class ScopedPosterService(PosterService):
    _access: AccountAccess

    @classmethod
    def over(
        cls,
        base: PosterService,
        access: AccountAccess,
        channels: ChannelService,
        codes: CodeService,
    ) -> Self:
        """A view of ``base`` (sharing its decoded-artwork cache) for ``access``, going
        through the scoped ``channels`` and ``codes``."""
        scoped = cls.__new__(cls)
        vars(scoped).update(vars(base))
        vars(scoped).update(_access=access, _channels=channels, _codes=codes)
        return scoped

    def font_path(self) -> Path:
        return super().font_path()  # no account data

    def get_template(self, template_id: int) -> PosterTemplate:
        found = super().get_template(template_id)
        if not self._access.allows_id(found.account_id):
            raise NotFoundError(f"no poster template with id {template_id}", field="template")
        return found

    def list_templates(self, account_id: int) -> list[PosterTemplate]:
        self._access.check_account_id(account_id)
        return super().list_templates(account_id)

    def find_template(self, account_id: int, ref: str | None = None) -> PosterTemplate:
        self._access.check_account_id(account_id)
        return super().find_template(account_id, ref)

    def add_template(
        self, account_id: int, name: str, artwork: bytes, layout: Any
    ) -> PosterTemplate:
        self._access.check_account_id(account_id)
        self._access.require_write()
        return super().add_template(account_id, name, artwork, layout)

    def update_layout(self, template_id: int, layout: Any) -> PosterTemplate:
        self.get_template(template_id)
        self._access.require_write()
        return super().update_layout(template_id, layout)

    def remove_template(self, template_id: int) -> PosterTemplate:
        self.get_template(template_id)
        self._access.require_write()
        return super().remove_template(template_id)

    def artwork(self, template_id: int) -> bytes:
        self.get_template(template_id)
        return super().artwork(template_id)

    def channel_poster(self, channel_id: int, template: str | None, fmt: str = "png") -> Poster:
        self._channels.get(channel_id)  # scoped: another account's channel is not found
        return super().channel_poster(channel_id, template, fmt)

    def preview(self, template_id: int, layout: Any = None, *, width: int = 800) -> bytes:
        self.get_template(template_id)
        if layout is not None:  # drafts are the editor's: keys that may change layouts
            self._access.require_write()
        return super().preview(template_id, layout, width=width)

    def temporary_warnings(self, account_id: int, group: str | None = None) -> tuple[str, ...]:
        self._access.check_account_id(account_id)
        return super().temporary_warnings(account_id, group)

    def write_zip(
        self, account_id: int, template: str | None, out: IO[bytes], **kwargs: Any
    ) -> PosterZip:
        self._access.check_account_id(account_id)
        return super().write_zip(account_id, template, out, **kwargs)


class ScopedCodeStyles(CodeStyles):
    _access: AccountAccess

    @classmethod
    def over(
        cls,
        base: CodeStyles,
        access: AccountAccess,
        channels: ChannelService,
        codes: CodeService,
        images: CodeImages,
    ) -> Self:
        scoped = cls.__new__(cls)
        vars(scoped).update(vars(base))
        vars(scoped).update(_access=access, _channels=channels, _codes=codes, _images=images)
        return scoped

    def _write(self, account_id: int) -> None:
        self._access.check_account_id(account_id)
        self._access.require_write()

    def set_logo(self, account_id: int, data: bytes, channel_id: int | None = None) -> str:
        self._write(account_id)
        return super().set_logo(account_id, data, channel_id)

    def remove_logo(self, account_id: int, channel_id: int | None = None) -> bool:
        self._write(account_id)
        return super().remove_logo(account_id, channel_id)

    def logo_of(self, channel: Channel) -> bytes | None:
        self._access.check_account_id(channel.account_id)
        return super().logo_of(channel)

    def set_style(self, account_id: int, style: Any, group: str | None = None) -> CodeStyle:
        self._write(account_id)
        return super().set_style(account_id, style, group)

    def remove_style(self, account_id: int, group: str | None = None) -> bool:
        self._write(account_id)
        return super().remove_style(account_id, group)

    def styles(self, account_id: int) -> dict[str | None, CodeStyle]:
        self._access.check_account_id(account_id)
        return super().styles(account_id)

    def style_of(self, channel: Channel) -> CodeStyle:
        self._access.check_account_id(channel.account_id)
        return super().style_of(channel)

    def styled_image(
        self,
        channel_id: int,
        overrides: Mapping[str, Any] | None = None,
        fmt: ImageFormat = ImageFormat.PNG,
    ) -> CodeImage:
        self._channels.get(channel_id)  # scoped: another account's channel is not found
        return super().styled_image(channel_id, overrides, fmt)
