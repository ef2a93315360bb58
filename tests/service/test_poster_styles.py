"""Posters in the saved code style of the channel's group or account (colours, error
level, logo), warnings for temporary codes, and the bound of a zip (issue 19 §3).

Every poster's code is decoded back with zxing-cpp: a style never makes it unreadable.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections import Counter

import pytest
from PIL import Image, ImageDraw

from tests.support.artwork import busy_artwork, campaign_artwork, sample_layout
from tests.support.qr import decode_png
from wxqr.protocol import QRKind
from wxqr.service.accounts import Account
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec
from wxqr.service.errors import InvalidInputError, NotFoundError
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]
CODE_SIZE = 900


def _logo() -> bytes:
    """A red disc on white: unmistakable in the middle of a dark-blue code."""
    image = Image.new("RGB", (200, 200), "#ffffff")
    ImageDraw.Draw(image).ellipse((10, 10, 190, 190), fill="#e53935")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _channel(ws: WS, group: str | None, spec: CodeSpec | None = None) -> int:
    workspace, account = ws
    created = workspace.channel_codes.create(
        account.id, NewChannel(name=f"店 {uuid.uuid4().hex[:6]}", group=group), spec or CodeSpec()
    )
    return created.channel.id


def _code_box(poster: bytes) -> Image.Image:
    layout = sample_layout(CODE_SIZE)
    box = layout["code"]
    assert isinstance(box, dict)
    image = Image.open(io.BytesIO(poster)).convert("RGB")
    return image.crop((box["x"], box["y"], box["x"] + CODE_SIZE, box["y"] + CODE_SIZE))


def _colours(region: Image.Image) -> Counter[tuple[int, int, int]]:
    found = region.getcolors(maxcolors=region.width * region.height) or []
    return Counter({colour: count for count, colour in found})  # type: ignore[misc]


def test_a_groups_style_and_logo_are_on_its_posters(ws: WS) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "Styled", campaign_artwork(), sample_layout())
    workspace.code_styles.set_logo(account.id, _logo())
    workspace.code_styles.set_style(
        account.id, {"dark": "#0d47a1", "light": "#fff8e1", "logo": True}, group="vip"
    )
    workspace.code_styles.set_style(account.id, {"dark": "#1b5e20", "error": "q"})
    styled = _channel(ws, "vip")
    plain = _channel(ws, "walk-in")  # no group style: the account's

    poster = workspace.posters.channel_poster(styled, "Styled", "png")
    code = workspace.codes.current_code(styled)
    assert code is not None
    assert decode_png(poster.content) == code.url
    colours = _colours(_code_box(poster.content))
    assert colours[(0x0D, 0x47, 0xA1)] > 100_000  # the style's dark modules
    assert colours[(0xFF, 0xF8, 0xE1)] > 100_000  # on its light plate
    assert colours[(0xE5, 0x39, 0x35)] > 5_000  # the logo in the middle
    assert colours[(0, 0, 0)] == 0  # not the layout's black

    account_style = workspace.posters.channel_poster(plain, "Styled", "png")
    other = workspace.codes.current_code(plain)
    assert other is not None
    assert decode_png(account_style.content) == other.url
    box = _colours(_code_box(account_style.content))
    assert box[(0x1B, 0x5E, 0x20)] > 100_000
    assert box[(0xE5, 0x39, 0x35)] == 0  # the account's style asks for no logo


def test_without_a_saved_style_the_layouts_colours_are_used(ws: WS) -> None:
    workspace, account = ws
    layout = sample_layout()
    layout["code"] = {**layout["code"], "dark": "#4a148c"}  # type: ignore[dict-item]
    workspace.posters.add_template(account.id, "Own", campaign_artwork(), layout)
    channel_id = _channel(ws, "plain")
    poster = workspace.posters.channel_poster(channel_id, "Own", "png")
    assert _colours(_code_box(poster.content))[(0x4A, 0x14, 0x8C)] > 100_000


def test_a_style_asking_for_a_missing_logo_is_refused(ws: WS) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "NoLogo", campaign_artwork(), sample_layout())
    workspace.code_styles.set_style(account.id, {"logo": True})
    channel_id = _channel(ws, None)
    with pytest.raises(NotFoundError, match="upload one first"):
        workspace.posters.channel_poster(channel_id, "NoLogo")


def test_a_zip_draws_each_channel_in_its_style_and_every_code_decodes(ws: WS) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "ZipStyle", busy_artwork(), sample_layout(700))
    workspace.code_styles.set_logo(account.id, _logo())
    workspace.code_styles.set_style(account.id, {"dark": "#0d47a1", "logo": True}, group="zs")
    ids = [_channel(ws, "zs") for _ in range(9)]  # 9: the pool of processes draws them
    out = io.BytesIO()
    result = workspace.posters.write_zip(account.id, "ZipStyle", out, group="zs")
    assert len(result.files) == 9
    assert result.warnings == ()  # permanent codes
    codes = workspace.codes.current_codes(ids)
    urls = {workspace.channels.get(i).name: codes[i].url for i in ids}
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist()[::3]:
            content = archive.read(name)
            assert decode_png(content) == urls[name.removesuffix(".jpg")]
            image = Image.open(io.BytesIO(content)).convert("RGB")
            middle = image.getpixel((1240, 1700 + 350))  # the logo's centre: red (JPEG)
            assert isinstance(middle, tuple)
            assert middle[0] > 180, middle
            assert middle[1] < 110, middle


def test_temporary_codes_on_posters_come_with_a_warning(ws: WS) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "Temp", campaign_artwork(), sample_layout())
    temporary = CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=7 * 86400)
    channel_id = _channel(ws, "temp", temporary)
    poster = workspace.posters.channel_poster(channel_id, "Temp", "jpeg")
    assert poster.warning is not None
    assert "stops working on" in poster.warning
    assert "--kind permanent" in poster.warning
    permanent = workspace.posters.channel_poster(_channel(ws, "temp"), "Temp", "jpeg")
    assert permanent.warning is None

    result = workspace.posters.write_zip(account.id, "Temp", io.BytesIO(), group="temp")
    assert len(result.files) == 2
    assert len(result.warnings) == 1
    assert workspace.posters.temporary_warnings(account.id, "temp") == result.warnings


def test_a_zip_above_the_bound_is_refused_before_anything_is_drawn(ws: WS) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "Bound", campaign_artwork(), sample_layout())
    for _ in range(3):
        _channel(ws, "bound")
    out = io.BytesIO()
    with pytest.raises(InvalidInputError, match="at most 2") as refused:
        workspace.posters.write_zip(account.id, "Bound", out, group="bound", max_channels=2)
    assert "3 active channels" in refused.value.detail
    assert out.getvalue() == b""
