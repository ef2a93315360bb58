"""Bulk: channels from CSV (checked first, all or nothing), zips of code images."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.support.qr import decode_png, decode_svg
from wxqr.protocol import QRKind
from wxqr.service.accounts import Account
from wxqr.service.bulk import build_zip, import_channels, parse_channel_csv
from wxqr.service.channels import NewChannel
from wxqr.service.code_images import ImageFormat, ImageSpec
from wxqr.service.codes import CodeSpec, SceneType
from wxqr.service.errors import InvalidInputError
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]

GOOD = """\ufeffname,group,kind,scene_type,scene,expire_days,tags
Poster A,posters,permanent,id,,,spring;print
Poster B,posters,,,,,
Shop 12,shops,temporary,str,shop-12,7,
Order 10086,,permanent,str,,,

"""


def test_parse_reads_every_column() -> None:
    rows = parse_channel_csv(GOOD)
    assert [r.channel.name for r in rows] == ["Poster A", "Poster B", "Shop 12", "Order 10086"]
    assert rows[0].channel.tags == ("spring", "print")
    assert rows[0].channel.group == "posters"
    assert rows[1].code == CodeSpec()  # defaults: permanent, allocated integer id
    assert rows[2].code == CodeSpec(
        kind=QRKind.TEMPORARY, scene_type=SceneType.STR, scene="shop-12", expire_seconds=7 * 86400
    )
    assert rows[3].code.scene_type is SceneType.STR
    assert rows[3].code.scene is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("group\nx\n", "'name' column"),
        ("name,colour\nA,red\n", "unknown CSV column"),
        ("name\nA\nA\n", "line 3: 'A' is already on line 2"),
        ("name,kind\nA,forever\n", "line 2: kind must be"),
        ("name,expire_days\nA,3\n", "line 2: a permanent code has no expire_days"),
        ("name,kind,expire_days\nA,temporary,31\n", "1..30"),
        ("name,scene\nA,abc\n", "not an integer id"),
        ("name\n\n", "no channel rows"),
    ],
)
def test_parse_names_the_bad_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_channel_csv(text)


def test_import_creates_channels_with_codes_and_reports_progress(ws: WS) -> None:
    workspace, account = ws
    seen: list[tuple[int, int]] = []
    created = import_channels(
        workspace.channels,
        workspace.codes,
        account.id,
        parse_channel_csv(GOOD),
        progress=lambda done, total: seen.append((done, total)),
    ).created
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [c.code.scene for c in created[:3]] == ["1", "2", "shop-12"]
    assert created[2].code.kind is QRKind.TEMPORARY
    assert all(c.code.ticket for c in created)
    assert workspace.channels.count(account.id) == 4


def test_import_refuses_taken_names_before_creating_anything(ws: WS) -> None:
    workspace, account = ws
    workspace.channels.create(account.id, NewChannel(name="Shop 12"))
    with pytest.raises(InvalidInputError, match="line 4: a channel named 'Shop 12'"):
        import_channels(workspace.channels, workspace.codes, account.id, parse_channel_csv(GOOD))
    assert workspace.channels.count(account.id) == 1


def test_zip_holds_one_image_per_channel_named_by_it(ws: WS) -> None:
    workspace, account = ws
    created = import_channels(
        workspace.channels,
        workspace.codes,
        account.id,
        parse_channel_csv("name\nPoster A\nShop: 1/2\n海报 B\n"),
    ).created
    bare = workspace.channels.create(account.id, NewChannel(name="No code yet"))
    channels = [c.channel for c in created] + [bare]
    progress: list[int] = []
    result = build_zip(
        workspace.codes,
        workspace.images,
        channels,
        ImageSpec(),
        now=workspace.clock(),
        progress=lambda done, _total: progress.append(done),
    )
    assert result.files == ("Poster A.png", "Shop_ 1_2.png", "海报 B.png")
    assert result.skipped == ("No code yet",)
    assert progress == [1, 2, 3, 4]
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert archive.namelist() == list(result.files)
        for name, item in zip(result.files, created, strict=True):
            assert decode_png(archive.read(name)) == item.code.url

    svg = build_zip(
        workspace.codes,
        workspace.images,
        channels[:1],
        ImageSpec(format=ImageFormat.SVG),
        now=workspace.clock(),
    )
    with zipfile.ZipFile(io.BytesIO(svg.content)) as archive:
        assert decode_svg(archive.read("Poster A.svg")) == created[0].code.url


def test_expired_codes_are_left_out_of_zips(ws: WS) -> None:
    workspace, account = ws
    channel = workspace.channels.create(account.id, NewChannel(name="Flyer"))
    code = workspace.codes.issue(channel.id, CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=60))
    assert code.expires_at is not None
    later = build_zip(
        workspace.codes, workspace.images, [channel], ImageSpec(), now=code.expires_at + 1
    )
    assert later.files == ()
    assert later.skipped == ("Flyer",)
