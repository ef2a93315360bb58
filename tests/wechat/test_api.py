"""Every API of the client against the emulator, over real HTTP."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import zxingcpp
from PIL import Image

from wxqr.emulator.testing import RunningEmulator
from wxqr.protocol import QRRequest
from wxqr.wechat import (
    APIError,
    QRTicket,
    SyncWeChatClient,
    Tag,
    UserInfo,
    UserSummaryRow,
    WeChatClient,
    date_chunks,
)

from .support import config_for

pytestmark = pytest.mark.anyio


def _decode_jpeg(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


async def test_temporary_codes_for_scene_id_and_str(emu: RunningEmulator) -> None:
    async with WeChatClient(config_for(emu)) as client:
        before = time.time()
        by_id = await client.create_qrcode(QRRequest.temporary(4_000_000_000, 1800))
        by_str = await client.create_qrcode(QRRequest.temporary("poster-北京-07", 600))
        after = time.time()
    for ticket, seconds in ((by_id, 1800), (by_str, 600)):
        assert isinstance(ticket, QRTicket)
        assert ticket.url.startswith("http://weixin.qq.com/q/")
        assert ticket.expire_seconds == seconds
        assert ticket.expires_at is not None
        assert ticket.expires_at.tzinfo is UTC
        assert before + seconds - 1 <= ticket.expires_at.timestamp() <= after + seconds
    assert by_id.ticket != by_str.ticket
    assert by_id.url != by_str.url
    emu.scan("o-scanner", ticket=by_str.ticket)
    follower = [f for f in emu.followers() if f.openid == "o-scanner"]
    assert follower[0].qr_scene_str == "poster-北京-07"


async def test_permanent_codes_have_no_expiry(emu: RunningEmulator) -> None:
    async with WeChatClient(config_for(emu)) as client:
        by_id = await client.create_qrcode(QRRequest.permanent(100_000))
        by_str = await client.create_qrcode(QRRequest.permanent("shop-7"))
    assert by_id.expire_seconds is None
    assert by_id.expires_at is None
    assert by_str.expire_seconds is None
    assert by_str.expires_at is None
    assert emu.calls("/cgi-bin/qrcode/create") == 2
    assert emu.calls("/cgi-bin/stable_token") == 1


async def test_image_is_the_jpeg_of_the_ticket_url(emu: RunningEmulator) -> None:
    async with WeChatClient(config_for(emu)) as client:
        ticket = await client.create_qrcode(QRRequest.temporary(42, 300))
        image = await client.fetch_qrcode_image(ticket.ticket)
    assert image.startswith(b"\xff\xd8\xff")
    assert _decode_jpeg(image) == [ticket.url]
    # the image path needs no token: only one token fetch for the create
    assert emu.calls("/cgi-bin/stable_token") == 1
    assert emu.calls("/cgi-bin/showqrcode") == 1


async def test_bad_ticket_image_is_the_api_error_of_its_text_plain_body(
    emu: RunningEmulator,
) -> None:
    async with WeChatClient(config_for(emu)) as client:
        with pytest.raises(APIError) as caught:
            await client.fetch_qrcode_image("gQH47joAAAAAAAAAASxodHRwOi8vbm90LWEtdGlja2V0")
    assert caught.value.errcode == 40097
    assert caught.value.rid is not None
    assert emu.calls("/cgi-bin/showqrcode") == 1


def test_show_url_encodes_the_ticket_exactly_once(emu: RunningEmulator) -> None:
    with SyncWeChatClient(config_for(emu, mp_base="https://mp.example.test/")) as client:
        url = client.show_url("ab+c/d==")
    assert url == "https://mp.example.test/cgi-bin/showqrcode?ticket=ab%2Bc%2Fd%3D%3D"
    assert parse_qs(urlsplit(url).query)["ticket"] == ["ab+c/d=="]


async def test_user_info_of_qr_follower_plain_follower_and_former_follower(
    emu: RunningEmulator,
) -> None:
    async with WeChatClient(config_for(emu)) as client:
        code = await client.create_qrcode(QRRequest.permanent(77))
        emu.scan("o-qr", ticket=code.ticket)
        emu.follow("o-search")
        emu.follow("o-gone")
        emu.unsubscribe("o-gone")
        by_qr = await client.user_info("o-qr")
        by_search = await client.user_info("o-search", lang="en")
        gone = await client.user_info("o-gone")
        with pytest.raises(APIError) as caught:
            await client.user_info("o-never-seen")
        with pytest.raises(ValueError, match="openid"):
            await client.user_info("")
    assert isinstance(by_qr, UserInfo)
    assert by_qr.subscribed
    assert by_qr.subscribe_scene == "ADD_SCENE_QR_CODE"
    assert by_qr.qr_scene == 77
    assert by_qr.qr_scene_str is None
    assert by_qr.subscribe_time is not None
    assert by_qr.subscribe_time > 1_600_000_000
    assert by_search.subscribed
    assert by_search.subscribe_scene == "ADD_SCENE_SEARCH"
    assert by_search.qr_scene is None
    assert by_search.language == "en"
    assert gone == UserInfo(openid="o-gone", subscribed=False)
    assert caught.value.errcode == 40003


async def test_tags_create_list_and_batch_tagging_in_chunks_of_50(emu: RunningEmulator) -> None:
    openids = [f"o-{i:03d}" for i in range(60)]
    for openid in openids:
        emu.follow(openid)
    async with WeChatClient(config_for(emu)) as client:
        tag = await client.create_tag("地推-上海")
        await client.batch_tag(openids, tag.id)
        await client.batch_tag([], tag.id)  # nothing to do: no call
        tags = await client.list_tags()
        info = await client.user_info("o-059")
        with pytest.raises(ValueError, match=r"1\.\.30"):
            await client.create_tag("x" * 31)
        with pytest.raises(APIError) as duplicate:
            await client.create_tag("地推-上海")
    assert isinstance(tag, Tag)
    assert tag.name == "地推-上海"
    assert Tag(tag.id, "地推-上海", 60) in tags
    assert info.tag_ids == (tag.id,)
    assert emu.calls("/cgi-bin/tags/members/batchtagging") == 2
    assert duplicate.value.errcode == 45157


async def test_user_summary_splits_long_ranges_into_7_day_calls(emu: RunningEmulator) -> None:
    async with WeChatClient(config_for(emu)) as client:
        code = await client.create_qrcode(QRRequest.permanent(5))
        emu.scan("o-a", ticket=code.ticket)
        emu.scan("o-b", ticket=code.ticket)
        emu.follow("o-c")
        emu.unsubscribe("o-a")
        now = emu.advance(86_400)  # data is ready the next day (token expires meanwhile)
        yesterday = (datetime.fromtimestamp(now, UTC) + timedelta(hours=8)).date() - timedelta(1)
        begin = yesterday - timedelta(days=19)
        rows = await client.user_summary(begin, yesterday)
        with pytest.raises(ValueError, match="before"):
            await client.user_summary(yesterday, begin)
    # 7 + 7 + 6 days; the first call met 42001 (the day passed on the emulator's clock
    # only), so it was retried once with a fresh token
    assert emu.calls("/datacube/getusersummary") == 3 + 1
    assert emu.calls("/cgi-bin/stable_token") == 2
    assert all(isinstance(r, UserSummaryRow) for r in rows)
    assert [r.ref_date for r in rows] == sorted(r.ref_date for r in rows)
    assert {r.ref_date for r in rows} == {begin + timedelta(days=i) for i in range(20)}
    by_source = {r.user_source: r for r in rows if r.ref_date == yesterday}
    assert by_source[30].new_user == 2  # two QR scans
    assert by_source[30].cancel_user == 1  # o-a came by QR code and left
    assert sum(r.cancel_user for r in rows) == 1
    assert sum(r.new_user for r in rows) == 3


def test_date_chunks() -> None:
    day = date(2026, 11, 1)
    assert list(date_chunks(day, day)) == [(day, day)]
    chunks = list(date_chunks(day, date(2026, 11, 15)))
    assert chunks == [
        (date(2026, 11, 1), date(2026, 11, 7)),
        (date(2026, 11, 8), date(2026, 11, 14)),
        (date(2026, 11, 15), date(2026, 11, 15)),
    ]


def test_sync_facade_covers_the_api(emu: RunningEmulator) -> None:
    emu.follow("o-sync")
    with SyncWeChatClient(config_for(emu)) as client:
        ticket = client.create_qrcode(QRRequest.temporary("sync", 60))
        assert _decode_jpeg(client.fetch_qrcode_image(ticket.ticket)) == [ticket.url]
        tag = client.create_tag("sync")
        client.batch_tag(["o-sync"], tag.id)
        assert client.user_info("o-sync").tag_ids == (tag.id,)
        assert tag.id in {t.id for t in client.list_tags()}
        assert client.access_token() == client.access_token()
        assert isinstance(client.user_summary(date(2020, 1, 1), date(2020, 1, 2)), list)
    with pytest.raises(RuntimeError, match="closed"):
        client.list_tags()
    assert emu.calls("/cgi-bin/stable_token") == 1


async def test_injected_async_client_is_used_and_left_open(emu: RunningEmulator) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        client = WeChatClient(config_for(emu), http=http)
        ticket = await client.create_qrcode(QRRequest.temporary(1, 60))
        await client.fetch_qrcode_image(ticket.ticket)
        await client.aclose()
        assert not http.is_closed
    assert seen == ["/cgi-bin/stable_token", "/cgi-bin/qrcode/create", "/cgi-bin/showqrcode"]


async def test_injected_transport_reaches_the_emulator_app_in_process(
    emu: RunningEmulator,
) -> None:
    transport = httpx.ASGITransport(app=emu.app)
    config = config_for(emu, api_base="http://emulator.test", mp_base="http://emulator.test")
    async with WeChatClient(config, transport=transport) as client:
        ticket = await client.create_qrcode(QRRequest.permanent("asgi"))
        assert _decode_jpeg(await client.fetch_qrcode_image(ticket.ticket)) == [ticket.url]
