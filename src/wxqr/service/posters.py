"""Poster templates and the posters of channels (issue 19 §3).

A template is an artwork image (PNG or JPEG, bounded in bytes and pixels, stored in the
database beside the rest of an account's data so backups carry it) and a layout: the
code's box and the caption boxes (:class:`wxqr.render.PosterLayout`). A template is
refused when its code box is too small to scan at print resolution, with the reason.

A channel's poster is its template drawn with the channel's current code and its values
in the captions; a group's posters are rendered by a pool of processes straight into a
zip file (:func:`wxqr.render.render_batch`), so a thousand posters take seconds, not
minutes, and never sit in memory together.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import IO, Any

from PIL import Image
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from wxqr.render import (
    MIN_MODULE_PX,
    PLACEHOLDERS,
    POSTER_FORMATS,
    BatchSpec,
    CodeLook,
    FontNotFound,
    ImageBounds,
    ImageRefused,
    PosterArt,
    PosterJob,
    PosterLayout,
    StyleRefused,
    check_code_box,
    checked_image,
    decode_rgb,
    find_cjk_font,
    render_batch,
    sample_values,
    scaled_preview,
)
from wxqr.service.accounts import get_account_by_id
from wxqr.service.bulk import zip_name
from wxqr.service.channels import Channel, ChannelService, ChannelStatus
from wxqr.service.code_expiry import check_exportable, temporary_warning
from wxqr.service.code_styles import CodeStyle, CodeStyles
from wxqr.service.codes import Code, CodeService, CodeStatus
from wxqr.service.errors import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from wxqr.store.tables import poster_templates

__all__ = [
    "ARTWORK_BOUNDS",
    "MAX_ZIP_CHANNELS",
    "PLACEHOLDERS",
    "Poster",
    "PosterService",
    "PosterTemplate",
    "PosterZip",
]

#: Artwork: at most 12 MiB and A3 at 300 dpi (3508 × 4961 px); at least 200 px a side.
ARTWORK_BOUNDS = ImageBounds(max_bytes=12 * 1024 * 1024, max_pixels=3508 * 4961, min_side=200)
_NAME = re.compile(r"^[^\x00-\x1f\x7f/\\]{1,64}$")
#: A zip of posters through the API holds at most this many channels (about a minute of
#: rendering on 2 cores); the CLI has no bound.
MAX_ZIP_CHANNELS = 1000
#: Decoded artworks kept per process (an A4 artwork is 26 MB of pixels).
_ART_CACHE = 4
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PosterTemplate:
    id: int
    account_id: int
    name: str
    artwork_type: str
    width: int
    height: int
    layout: PosterLayout
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Poster:
    content: bytes
    content_type: str
    extension: str
    channel: Channel
    code: Code
    #: For a temporary code: when it stops working and how to get a permanent one.
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class PosterZip:
    files: tuple[str, ...]
    skipped: tuple[str, ...]  # channels without an active code
    #: One per temporary code in the zip (code_expiry.temporary_warning).
    warnings: tuple[str, ...] = ()


def _template(row: Any) -> PosterTemplate:
    return PosterTemplate(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        artwork_type=row.artwork_type,
        width=row.width,
        height=row.height,
        layout=PosterLayout.from_dict(row.layout, row.width, row.height),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _format(fmt: str) -> str:
    chosen = "jpeg" if fmt.lower() in ("jpg", "jpeg") else fmt.lower()
    if chosen not in POSTER_FORMATS:
        raise InvalidInputError(
            f"unknown poster format {fmt!r}: use png, jpeg or pdf", field="format"
        )
    return chosen


class PosterService:
    """Templates (add, list, change the layout, remove) and posters of channels."""

    def __init__(
        self,
        engine: Engine,
        channels: ChannelService,
        codes: CodeService,
        *,
        font: str | None = None,
        clock: Callable[[], float] = time.time,
        min_module_px: int = MIN_MODULE_PX,
        workers: int = 2,
        styles: CodeStyles | None = None,
    ) -> None:
        self._engine = engine
        self._styles = styles
        self._channels = channels
        self._codes = codes
        self._font = font
        self._clock = clock
        self.min_module_px = min_module_px
        self.workers = workers
        self._art: OrderedDict[tuple[int, int], Image.Image] = OrderedDict()
        self._art_lock = Lock()

    # -- templates -------------------------------------------------------------------

    def _layout(self, data: Any, width: int, height: int) -> PosterLayout:
        try:
            layout = PosterLayout.from_dict(data, width, height)
            check_code_box(layout.code, minimum=self.min_module_px)
        except StyleRefused as exc:
            raise InvalidInputError(f"the code would not scan: {exc}", field="layout") from None
        except ValueError as exc:
            raise InvalidInputError(f"layout: {exc}", field="layout") from None
        return layout

    def add_template(
        self, account_id: int, name: str, artwork: bytes, layout: Any
    ) -> PosterTemplate:
        """Store a template; the artwork and layout are checked first (nothing is stored
        when either is refused), and a name is used once per account."""
        name = name.strip()
        if not _NAME.match(name):
            raise InvalidInputError("a template name is 1..64 characters, no slashes", field="name")
        try:
            checked = checked_image(artwork, ARTWORK_BOUNDS, "artwork")
        except ImageRefused as exc:
            raise InvalidInputError(str(exc), field="artwork") from None
        parsed = self._layout(layout, checked.width, checked.height)
        now = int(self._clock())
        try:
            with self._engine.begin() as conn:
                new_id = conn.execute(
                    insert(poster_templates).values(
                        account_id=account_id,
                        name=name,
                        artwork=artwork,
                        artwork_type=checked.content_type,
                        width=checked.width,
                        height=checked.height,
                        layout=parsed.to_dict(),
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key
        except IntegrityError:
            raise ConflictError(
                f"a poster template named {name!r} already exists", field="name"
            ) from None
        assert new_id is not None
        return self.get_template(int(new_id[0]))

    def _row(self, template_id: int) -> Any:
        columns = [c for c in poster_templates.c if c.name != "artwork"]
        with self._engine.connect() as conn:
            row = conn.execute(select(*columns).where(poster_templates.c.id == template_id)).first()
        if row is None:
            raise NotFoundError(f"no poster template with id {template_id}", field="template")
        return row

    def get_template(self, template_id: int) -> PosterTemplate:
        return _template(self._row(template_id))

    def list_templates(self, account_id: int) -> list[PosterTemplate]:
        columns = [c for c in poster_templates.c if c.name != "artwork"]
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(*columns)
                .where(poster_templates.c.account_id == account_id)
                .order_by(poster_templates.c.name)
            ).all()
        return [_template(row) for row in rows]

    def find_template(self, account_id: int, ref: str | None = None) -> PosterTemplate:
        """The template named ``ref`` (or with that id) of the account; with no ref, the
        account's only template."""
        found = self.list_templates(account_id)
        if ref is None or not ref.strip():
            if len(found) == 1:
                return found[0]
            if not found:
                raise NotFoundError(
                    "this account has no poster template: add one first", field="template"
                )
            raise InvalidInputError(
                "this account has several poster templates: say which one", field="template"
            )
        ref = ref.strip()
        for template in found:
            if template.name == ref or str(template.id) == ref:
                return template
        raise NotFoundError(f"no poster template {ref!r}", field="template")

    def update_layout(self, template_id: int, layout: Any) -> PosterTemplate:
        """Change a template's layout (the editor's save); checked like a new one."""
        current = self.get_template(template_id)
        parsed = self._layout(layout, current.width, current.height)
        with self._engine.begin() as conn:
            conn.execute(
                update(poster_templates)
                .where(poster_templates.c.id == template_id)
                .values(layout=parsed.to_dict(), updated_at=int(self._clock()))
            )
        return self.get_template(template_id)

    def remove_template(self, template_id: int) -> PosterTemplate:
        removed = self.get_template(template_id)
        with self._engine.begin() as conn:
            conn.execute(delete(poster_templates).where(poster_templates.c.id == template_id))
        return removed

    def artwork(self, template_id: int) -> bytes:
        """The template's artwork as uploaded."""
        self._row(template_id)
        with self._engine.connect() as conn:
            data = conn.execute(
                select(poster_templates.c.artwork).where(poster_templates.c.id == template_id)
            ).scalar_one()
        return bytes(data)

    # -- drawing ---------------------------------------------------------------------

    def font_path(self) -> Path:
        """The caption font (``WXQR_POSTER_FONT`` or the search order's first)."""
        try:
            return find_cjk_font(self._font)
        except FontNotFound as exc:
            raise UnavailableError(str(exc)) from None

    def _decoded(self, template: PosterTemplate) -> Image.Image:
        """The template's artwork decoded, kept for the next poster of this process."""
        key = (template.id, template.updated_at)
        with self._art_lock:
            if key in self._art:
                self._art.move_to_end(key)
                return self._art[key]
        image = decode_rgb(self.artwork(template.id))
        with self._art_lock:
            self._art[key] = image
            while len(self._art) > _ART_CACHE:
                self._art.popitem(last=False)
        return image

    def _values(self, channel: Channel, code: Code) -> dict[str, str]:
        account = get_account_by_id(self._engine, channel.account_id)
        return {
            "channel_name": channel.name,
            "group": channel.group or "",
            "scene": code.scene,
            "channel_id": str(channel.id),
            "account": account.appid if account is not None else "",
        }

    def _active_code(self, channel: Channel) -> tuple[Code, str | None]:
        """The channel's current code and the warning to show with its poster."""
        code = self._codes.current_code(channel.id)
        if code is None or code.url is None:
            raise NotFoundError(f"channel {channel.name!r} has no code yet: issue one first")
        # One rule for every export (wxqr.service.code_expiry): an expired code is refused
        # (409); a poster is for print, so there is no "anyway" here.
        return code, check_exportable(code, False, self._clock())

    def _saved_styles(self, account_id: int) -> dict[str | None, CodeStyle]:
        return {} if self._styles is None else self._styles.styles(account_id)

    def _look(self, channel: Channel, saved: Mapping[str | None, CodeStyle]) -> CodeLook | None:
        """The saved style of the channel's group, else of its account, as drawn on a
        poster (colours, error level, logo); None: the layout's own colours."""
        style = saved.get(channel.group) if channel.group else None
        style = style or saved.get(None)
        if style is None:
            return None
        logo = None
        if style.logo:
            assert self._styles is not None
            logo = self._styles.logo_of(channel)
            if logo is None:
                raise NotFoundError(
                    f"the code style of {channel.name!r} asks for a logo and none is "
                    "uploaded for it or its account: upload one first",
                    field="logo",
                )
        return CodeLook(style.dark, style.light, style.error, logo, float(style.logo_ratio))

    def channel_poster(self, channel_id: int, template: str | None, fmt: str = "png") -> Poster:
        """The poster of the channel's current code on ``template`` (name or id; none:
        the account's only template)."""
        chosen = _format(fmt)
        channel = self._channels.get(channel_id)
        found = self.find_template(channel.account_id, template)
        code, warning = self._active_code(channel)
        look = self._look(channel, self._saved_styles(channel.account_id))
        art = PosterArt(self._decoded(found), found.layout, self.font_path(), self.min_module_px)
        try:
            content = art.encoded(code.url or "", self._values(channel, code), chosen, look)
        except StyleRefused as exc:
            raise InvalidInputError(f"the code would not scan: {exc}", field="template") from None
        except ValueError as exc:  # an unreadable logo
            raise InvalidInputError(str(exc), field="logo") from None
        return Poster(content, POSTER_FORMATS[chosen], chosen, channel, code, warning)

    def preview(self, template_id: int, layout: Any = None, *, width: int = 800) -> bytes:
        """A small JPEG of the template drawn with sample values and ``layout`` (a draft
        from the editor, checked like a saved one; none: the saved layout)."""
        template = self.get_template(template_id)
        chosen = (
            template.layout
            if layout is None
            else self._layout(layout, template.width, template.height)
        )
        art = PosterArt(self._decoded(template), chosen, self.font_path(), self.min_module_px)
        image = art.draw("http://weixin.qq.com/q/02" + "preview" * 3, sample_values())
        return scaled_preview(image, max(100, min(width, 2000)))

    def temporary_warnings(self, account_id: int, group: str | None = None) -> tuple[str, ...]:
        """What to tell whoever prints the posters of the account's active channels (of
        ``group``) with a temporary code: one warning per code (when it stops working,
        how to get a permanent one). The dashboard shows them beside the download."""
        channels = self._channels.list_channels(
            account_id, group=group, status=ChannelStatus.ACTIVE
        )
        current = self._codes.current_codes([c.id for c in channels])
        now = self._clock()
        return tuple(
            warning
            for code in current.values()
            if code.status(now) is CodeStatus.ACTIVE
            and (warning := temporary_warning(code)) is not None
        )

    def write_zip(
        self,
        account_id: int,
        template: str | None,
        out: IO[bytes],
        *,
        group: str | None = None,
        fmt: str = "jpeg",
        progress: Progress | None = None,
        workers: int | None = None,
        max_channels: int | None = None,
    ) -> PosterZip:
        """Write a zip of the posters of the account's active channels (of ``group``) to
        ``out``, one file per channel named by it; channels without an active code are
        skipped and listed. ``max_channels``: refuse more (422) before drawing any."""
        chosen = _format(fmt)
        found = self.find_template(account_id, template)
        channels = self._channels.list_channels(
            account_id, group=group, status=ChannelStatus.ACTIVE
        )
        if not channels:
            raise NotFoundError("no active channel matches", field="group")
        if max_channels is not None and len(channels) > max_channels:
            raise InvalidInputError(
                f"{len(channels)} active channels match: a zip of posters holds at most "
                f"{max_channels}; choose a smaller group, or use the command line "
                "(`wxqr poster render --group G --zip FILE` has no bound)",
                field="group",
            )
        current = self._codes.current_codes([c.id for c in channels])
        now = self._clock()
        todo: list[tuple[Channel, Code]] = []
        skipped: list[str] = []
        for channel in channels:
            code = current.get(channel.id)
            if code is None or code.url is None or code.status(now) is not CodeStatus.ACTIVE:
                skipped.append(channel.name)
            else:
                todo.append((channel, code))
        account = get_account_by_id(self._engine, account_id)
        static: Mapping[str, str] = {
            "group": group or "",
            "account": account.appid if account is not None else "",
        }
        saved = self._saved_styles(account_id)
        looks: list[CodeLook] = []
        jobs: list[PosterJob] = []
        for channel, code in todo:
            look = self._look(channel, saved)
            if look is not None and look not in looks:
                looks.append(look)
            index = -1 if look is None else looks.index(look)
            jobs.append(PosterJob(code.url or "", self._values(channel, code), index))
        for job in jobs:  # every code checked before the first poster is drawn
            box = found.layout.code if job.look < 0 else looks[job.look].box(found.layout.code)
            try:
                check_code_box(box, job.url, minimum=self.min_module_px)
            except StyleRefused as exc:
                raise InvalidInputError(f"the code would not scan: {exc}") from None
        warnings = [w for _, code in todo if (w := temporary_warning(code)) is not None]
        spec = BatchSpec(
            artwork=self.artwork(found.id),
            layout=found.layout,
            font_path=self.font_path(),
            min_module_px=self.min_module_px,
            static=static if group is not None else {"account": static["account"]},
            fmt=chosen,
            looks=tuple(looks),
        )
        used: set[str] = set()
        files: list[str] = []
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            posters = render_batch(spec, jobs, workers=workers or self.workers, progress=progress)
            for (channel, _), content in zip(todo, posters, strict=True):
                name = zip_name(channel, "jpg" if chosen == "jpeg" else chosen, used)
                archive.writestr(name, content)
                files.append(name)
        return PosterZip(tuple(files), tuple(skipped), tuple(warnings))
