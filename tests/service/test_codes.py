"""Codes: scene allocation, WeChat tickets, expiry, the permanent limit, cached images."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select

from tests.support import pushes as p
from tests.support.qr import decode_png, decode_svg
from tests.support.stack import make_workspace
from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import MAX_PERMANENT_SCENE_ID, OpenedPush, QRKind, parse_push
from wxqr.service.accounts import Account
from wxqr.service.channels import NewChannel
from wxqr.service.code_images import ImageFormat, ImageSource, ImageSpec
from wxqr.service.codes import CodeSpec, CodeStatus, SceneType
from wxqr.service.errors import (
    ConflictError,
    InvalidInputError,
    LimitReachedError,
    UpstreamError,
)
from wxqr.service.ingest import incoming_push, record_pushes
from wxqr.service.workspace import Workspace
from wxqr.store.tables import accounts, code_images, events, scenes

WS = tuple[Workspace, Account]
CREATE = "/cgi-bin/qrcode/create"


def _channel(ws: WS, name: str) -> int:
    workspace, account = ws
    return workspace.channels.create(account.id, NewChannel(name=name)).id


def test_permanent_ids_are_allocated_in_order_skipping_taken_ones(ws: WS) -> None:
    workspace, _ = ws
    channel = _channel(ws, "c")
    first = workspace.codes.issue(channel, CodeSpec())
    hand = workspace.codes.issue(channel, CodeSpec(scene=3))
    second = workspace.codes.issue(channel, CodeSpec())
    third = workspace.codes.issue(channel, CodeSpec())
    assert [first.scene, hand.scene, second.scene, third.scene] == ["1", "3", "2", "4"]
    assert first.scene_value == 1
    assert first.scene_type is SceneType.ID
    assert first.kind is QRKind.PERMANENT
    assert first.expires_at is None
    assert first.ticket
    assert first.url
    assert first.url.startswith("http://weixin.qq.com/q/")
    assert first.status(workspace.clock()) is CodeStatus.ACTIVE
    assert [c.id for c in workspace.codes.codes_of(channel)] == [
        third.id,
        second.id,
        hand.id,
        first.id,
    ]


def test_string_scenes_are_generated_unique_and_chosen_ones_checked(ws: WS) -> None:
    workspace, _ = ws
    channel = _channel(ws, "c")
    generated = {
        workspace.codes.issue(channel, CodeSpec(scene_type=SceneType.STR)).scene for _ in range(5)
    }
    assert len(generated) == 5
    own = workspace.codes.issue(channel, CodeSpec(scene_type=SceneType.STR, scene="order-10086"))
    assert own.scene_value == "order-10086"
    with pytest.raises(ConflictError, match="already used"):
        workspace.codes.issue(channel, CodeSpec(scene_type=SceneType.STR, scene="order-10086"))
    # An integer scene and a string scene with the same text are one EventKey: refused too.
    workspace.codes.issue(channel, CodeSpec(scene=77))
    with pytest.raises(ConflictError):
        workspace.codes.issue(channel, CodeSpec(scene_type=SceneType.STR, scene="77"))


def test_temporary_codes_store_their_expiry(ws: WS) -> None:
    workspace, _ = ws
    channel = _channel(ws, "c")
    now = workspace.clock()
    code = workspace.codes.issue(channel, CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=3600))
    assert code.kind is QRKind.TEMPORARY
    assert code.expire_seconds == 3600
    assert code.expires_at is not None
    assert abs(code.expires_at - (now + 3600)) <= 5
    assert int(code.scene) > MAX_PERMANENT_SCENE_ID  # drawn above the permanent pool
    assert code.status(now) is CodeStatus.ACTIVE
    assert code.status(code.expires_at) is CodeStatus.EXPIRED
    # Temporary codes do not count against the permanent limit.
    assert workspace.codes.permanent_usage(code.account_id).used == 0


@pytest.mark.parametrize(
    "spec",
    [
        CodeSpec(scene=MAX_PERMANENT_SCENE_ID + 1),
        CodeSpec(scene=0),
        CodeSpec(scene_type=SceneType.STR, scene="x" * 65),
        CodeSpec(kind=QRKind.TEMPORARY, expire_seconds=2_592_001),
        CodeSpec(expire_seconds=60),
        CodeSpec(scene="abc"),
    ],
)
def test_invalid_codes_are_refused_before_wechat(
    ws: WS, emulator: RunningEmulator, spec: CodeSpec
) -> None:
    workspace, _ = ws
    channel = _channel(ws, "c")
    before = emulator.calls(CREATE)
    with pytest.raises(InvalidInputError):
        workspace.codes.issue(channel, spec)
    assert emulator.calls(CREATE) == before
    assert workspace.codes.codes_of(channel) == []


def test_the_permanent_limit_is_refused_before_wechat(
    engine: object, database_url: str, emulator: RunningEmulator
) -> None:
    workspace, account = make_workspace(engine, database_url, emulator, permanent_limit=2)  # type: ignore[arg-type]
    channel = workspace.channels.create(account.id, NewChannel(name="c")).id
    workspace.codes.issue(channel, CodeSpec())
    workspace.codes.issue(channel, CodeSpec(scene_type=SceneType.STR))
    before = emulator.calls(CREATE)
    with pytest.raises(LimitReachedError, match="2 permanent codes"):
        workspace.codes.issue(channel, CodeSpec())
    assert emulator.calls(CREATE) == before
    usage = workspace.codes.permanent_usage(account.id)
    assert (usage.used, usage.limit, usage.remaining) == (2, 2, 0)
    # Temporary codes are still fine.
    workspace.codes.issue(channel, CodeSpec(kind=QRKind.TEMPORARY))


def test_a_scan_recorded_against_a_refused_reservation_loses_the_reference(
    ws: WS, emulator: RunningEmulator, engine: Engine
) -> None:
    """Releasing a reservation WeChat refused clears the scene reference of any event
    recorded against it meanwhile (so a later scene can never inherit those scans) and
    leaves every other event alone."""
    workspace, account = ws
    channel = _channel(ws, "c")
    kept = workspace.codes.issue(channel, CodeSpec())
    emulator.set_faults(busy_ratio=1.0, latency=1.0, paths=[CREATE], seed=1)
    try:
        with ThreadPoolExecutor(1) as pool:
            issuing = pool.submit(workspace.codes.issue, channel, CodeSpec())
            pending = None
            for _ in range(200):  # the reservation exists while WeChat is being asked
                with engine.connect() as conn:
                    pending = conn.execute(
                        select(scenes.c.id, scenes.c.scene).where(scenes.c.ticket.is_(None))
                    ).first()
                if pending is not None:
                    break
                time.sleep(0.01)
            assert pending is not None
            # Scans of both scenes, recorded the way the webhook's writer records them.
            now = int(time.time())
            recorded = record_pushes(
                engine,
                [
                    incoming_push(
                        account.id,
                        OpenedPush(parse_push(xml), xml.encode(), False, now),
                        received_at=now * 1000,
                    )
                    for xml in (p.scan("o-1", pending.scene, now), p.scan("o-2", kept.scene, now))
                ],
            )
            # The pending scene's scan was credited to it: the release must clear that.
            assert [r.scene_info.scene_ref if r.scene_info else None for r in recorded] == [
                pending.id,
                int(kept.id),
            ]
            with pytest.raises(UpstreamError):
                issuing.result(30)
    finally:
        emulator.set_faults()
    with engine.connect() as conn:
        refs = dict(conn.execute(select(events.c.openid, events.c.scene_ref)).all())
        left = conn.execute(select(func.count()).where(scenes.c.id == pending.id)).scalar_one()
    assert refs == {"o-1": None, "o-2": int(kept.id)}
    assert left == 0


def test_a_refused_ticket_is_released_and_its_id_never_reused(
    ws: WS, emulator: RunningEmulator
) -> None:
    workspace, account = ws
    channel = _channel(ws, "c")
    first = workspace.codes.issue(channel, CodeSpec())
    emulator.set_faults(busy_ratio=1.0, paths=[CREATE], seed=1)
    try:
        with pytest.raises(UpstreamError, match="WeChat"):
            workspace.codes.issue(channel, CodeSpec())
    finally:
        emulator.set_faults()
    assert [c.id for c in workspace.codes.codes_of(channel)] == [first.id]
    after = workspace.codes.issue(channel, CodeSpec())
    assert (first.scene, after.scene) == ("1", "3")  # id 2 went to the refused call
    with workspace.engine.connect() as conn:
        pool = conn.execute(
            select(accounts.c.next_permanent_scene_id).where(accounts.c.id == account.id)
        ).scalar_one()
    assert pool == 4


def test_the_permanent_id_pool_runs_out_clearly(ws: WS) -> None:
    workspace, account = ws
    channel = _channel(ws, "c")
    with workspace.engine.begin() as conn:
        conn.execute(
            accounts.update()
            .where(accounts.c.id == account.id)
            .values(next_permanent_scene_id=MAX_PERMANENT_SCENE_ID)
        )
    last = workspace.codes.issue(channel, CodeSpec())
    assert last.scene == str(MAX_PERMANENT_SCENE_ID)
    with pytest.raises(LimitReachedError, match="never reused"):
        workspace.codes.issue(channel, CodeSpec())
    # A string scene still works: only the integer pool is used up.
    workspace.codes.issue(channel, CodeSpec(scene_type=SceneType.STR))


def test_images_render_the_codes_url_and_are_cached(ws: WS) -> None:
    workspace, _ = ws
    code = workspace.codes.issue(_channel(ws, "c"), CodeSpec())
    assert code.url is not None
    png = workspace.images.image(code, ImageSpec())
    assert png.content.startswith(b"\x89PNG")
    assert png.content_type == "image/png"
    assert decode_png(png.content) == code.url
    assert png.cached is False
    again = workspace.images.image(code, ImageSpec())
    assert again.cached is True
    assert again.content == png.content

    svg = workspace.images.image(code, ImageSpec(format=ImageFormat.SVG, dark="#0a3d62"))
    assert svg.content_type == "image/svg+xml"
    assert b"<svg" in svg.content
    assert b"#0a3d62" in svg.content
    assert decode_svg(svg.content) == code.url

    big = workspace.images.image(code, ImageSpec(size=400))
    assert decode_png(big.content) == code.url

    jpeg = workspace.images.image(code, ImageSpec(source=ImageSource.WECHAT))
    assert jpeg.content.startswith(b"\xff\xd8")
    assert jpeg.content_type == "image/jpeg"
    assert decode_png(jpeg.content) == code.url  # WeChat's own image encodes the same url
    with workspace.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(code_images)).scalar_one()
    assert stored == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale": 0},
        {"border": 17},
        {"dark": "red"},
        {"error": "x"},
        {"size": 5},
        {"format": ImageFormat.JPG, "source": ImageSource.RENDER},
    ],
)
def test_bad_image_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        ImageSpec(**kwargs)  # type: ignore[arg-type]


def test_concurrent_issues_get_distinct_sequential_ids(ws: WS) -> None:
    workspace, _ = ws
    channel = _channel(ws, "c")
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda _n: workspace.codes.issue(channel, CodeSpec()), range(12)))
    assert sorted(int(c.scene) for c in codes) == list(range(1, 13))
    assert len({c.ticket for c in codes}) == 12
