"""Poster templates and channels' posters through the service (real database, codes
issued by the emulator): every poster's code decodes back to the channel's url."""

from __future__ import annotations

import inspect
import io
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.support.artwork import A4, busy_artwork, campaign_artwork, plain_image, sample_layout
from tests.support.qr import decode_png
from wxqr.protocol import QRKind
from wxqr.service.access import AccessScope
from wxqr.service.accounts import Account
from wxqr.service.channels import NewChannel
from wxqr.service.codes import CodeSpec
from wxqr.service.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)
from wxqr.service.posters import PosterService
from wxqr.service.posters_access import ScopedPosterService
from wxqr.service.workspace import Workspace

WS = tuple[Workspace, Account]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def artwork() -> bytes:
    return busy_artwork()


def _channels(ws: Workspace, account: Account, group: str, count: int) -> list[int]:
    return [
        ws.channel_codes.create(
            account.id, NewChannel(name=f"{group} 无码 {n}", group=group)
        ).channel.id
        for n in range(count)
    ]


def _with_codes(ws: Workspace, account: Account, group: str, count: int) -> list[int]:
    made = []
    for n in range(count):
        created = ws.channel_codes.create(
            account.id, NewChannel(name=f"{group} 门店 {n}", group=group), CodeSpec()
        )
        made.append(created.channel.id)
    return made


def test_a_channels_poster_decodes_to_its_url(ws: WS, artwork: bytes) -> None:
    workspace, account = ws
    layout = sample_layout()
    layout["captions"][1]["colour"] = "#c62828"  # type: ignore[index]
    template = workspace.posters.add_template(account.id, "Spring", campaign_artwork(), layout)
    assert (template.width, template.height) == A4
    channel_id = workspace.channel_codes.create(
        account.id, NewChannel(name="静安寺店 Jing'an", group="春季活动"), CodeSpec()
    ).channel.id
    poster = workspace.posters.channel_poster(channel_id, "Spring", "png")
    code = workspace.codes.current_code(channel_id)
    assert code is not None
    assert poster.content_type == "image/png"
    assert decode_png(poster.content) == code.url
    assert Image.open(io.BytesIO(poster.content)).size == A4
    # The sample poster of docs/posters.md (made here, never drawn by hand).
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    small = Image.open(io.BytesIO(poster.content))
    small.thumbnail((620, 877))
    small.save(out / "poster-sample.png")
    jpeg = workspace.posters.channel_poster(channel_id, str(template.id), "jpeg")
    assert decode_png(jpeg.content) == code.url


def test_templates_are_listed_found_changed_and_removed(ws: WS, artwork: bytes) -> None:
    workspace, account = ws
    posters = workspace.posters
    made = posters.add_template(
        account.id, "Listed", artwork, {"code": {"x": 0, "y": 0, "size": 600}}
    )
    assert [t.name for t in posters.list_templates(account.id)] == ["Listed"]
    assert posters.find_template(account.id).id == made.id  # the only one
    with pytest.raises(ConflictError, match="already exists"):
        posters.add_template(account.id, "Listed", artwork, {"code": {"x": 0, "y": 0, "size": 600}})
    moved = posters.update_layout(made.id, {"code": {"x": 100, "y": 200, "size": 700}})
    assert (moved.layout.code.x, moved.layout.code.size) == (100, 700)
    with pytest.raises(InvalidInputError, match="would not scan"):
        posters.update_layout(made.id, {"code": {"x": 0, "y": 0, "size": 150}})
    assert posters.get_template(made.id).layout.code.size == 700  # unchanged
    preview = Image.open(io.BytesIO(posters.preview(made.id, width=400)))
    assert (preview.format, preview.width) == ("JPEG", 400)
    posters.remove_template(made.id)
    with pytest.raises(NotFoundError, match="no poster template"):
        posters.find_template(account.id, "Listed")


@pytest.mark.parametrize(
    ("artwork", "layout", "words"),
    [
        (plain_image((600, 800), "GIF"), {"code": {"x": 0, "y": 0, "size": 400}}, "PNG or JPEG"),
        (plain_image((600, 800)), {"code": {"x": 0, "y": 0, "size": 120}}, "per module"),
        (plain_image((600, 800)), {"code": {"x": 300, "y": 0, "size": 400}}, "x must be"),
        (plain_image((600, 800)), {"captions": []}, "code"),
    ],
)
def test_bad_templates_are_refused_and_nothing_is_stored(
    ws: WS, artwork: bytes, layout: dict[str, object], words: str
) -> None:
    workspace, account = ws
    with pytest.raises(InvalidInputError, match=words):
        workspace.posters.add_template(account.id, "Bad", artwork, layout)
    assert workspace.posters.list_templates(account.id) == []


def test_a_groups_zip_holds_a_decodable_poster_per_channel(ws: WS, artwork: bytes) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "Zip", artwork, sample_layout(700))
    group = f"zip-{uuid.uuid4().hex[:6]}"
    ids = _with_codes(workspace, account, group, 9)
    [no_code] = _channels(workspace, account, group, 1)  # skipped: no code
    seen: list[tuple[int, int]] = []
    out = io.BytesIO()
    result = workspace.posters.write_zip(
        account.id, "Zip", out, group=group, progress=lambda d, t: seen.append((d, t))
    )
    assert len(result.files) == 9
    assert result.skipped == (workspace.channels.get(no_code).name,)
    assert seen[-1] == (9, 9)
    codes = workspace.codes.current_codes(ids)
    urls = {workspace.channels.get(i).name: codes[i].url for i in ids}
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert all(name.endswith(".jpg") for name in names)
        for name in names[::4]:  # a sample
            assert decode_png(archive.read(name)) == urls[name.removesuffix(".jpg")]


def test_an_expired_codes_poster_is_refused(ws: WS, artwork: bytes) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "Temp", artwork, sample_layout())
    created = workspace.channel_codes.create(
        account.id,
        NewChannel(name=f"temp-{uuid.uuid4().hex[:6]}"),
        CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=60),
    )
    later = PosterService(
        workspace.engine, workspace.channels, workspace.codes, clock=lambda: time.time() + 3600
    )
    with pytest.raises(ConflictError, match="expired"):
        later.channel_poster(created.channel.id, "Temp")


def test_posters_without_a_cjk_font_are_unavailable(ws: WS, artwork: bytes, tmp_path: Path) -> None:
    workspace, account = ws
    workspace.posters.add_template(account.id, "Font", artwork, sample_layout())
    [channel_id] = _with_codes(workspace, account, "font", 1)
    broken = PosterService(
        workspace.engine, workspace.channels, workspace.codes, font=str(tmp_path / "none.ttf")
    )
    with pytest.raises(UnavailableError, match="WXQR_POSTER_FONT"):
        broken.channel_poster(channel_id, "Font")


def test_a_scope_limits_templates(ws: WS, artwork: bytes) -> None:
    workspace, account = ws
    made = workspace.posters.add_template(
        account.id, "Scoped", artwork, {"code": {"x": 0, "y": 0, "size": 600}}
    )
    [channel_id] = _with_codes(workspace, account, "scoped", 1)
    other = workspace.scoped(AccessScope(appids=frozenset({"wxsomeoneelse000"})))
    with pytest.raises(NotFoundError, match=f"no poster template with id {made.id}"):
        other.posters.get_template(made.id)
    with pytest.raises(NotFoundError):
        other.posters.channel_poster(channel_id, "Scoped")
    reader = workspace.scoped(AccessScope(appids=frozenset({account.appid}), read_only=True))
    assert reader.posters.channel_poster(channel_id, "Scoped").content
    with pytest.raises(ForbiddenError):
        reader.posters.remove_template(made.id)
    with pytest.raises(ForbiddenError):
        reader.posters.add_template(
            account.id, "X", artwork, {"code": {"x": 0, "y": 0, "size": 600}}
        )


def test_every_public_method_of_the_poster_service_checks_the_scope() -> None:
    public = {
        name
        for name, member in inspect.getmembers(PosterService, inspect.isfunction)
        if not name.startswith("_")
    }
    assert {name for name in public if name not in vars(ScopedPosterService)} == set()
