"""Posters drawn by wxqr.render: layouts, bounds, the scannability rules, and every poster's
code decoded back (zxing-cpp), including a small code on a busy artwork."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.support.artwork import A4, busy_artwork, plain_image, sample_layout
from tests.support.qr import decode_png
from wxqr.render import (
    MIN_MODULE_PX,
    BatchSpec,
    FontNotFound,
    ImageBounds,
    ImageRefused,
    PosterArt,
    PosterJob,
    PosterLayout,
    StyleRefused,
    check_code_box,
    check_colours,
    check_logo,
    checked_image,
    decode_rgb,
    find_cjk_font,
    render_batch,
    render_poster,
)
from wxqr.render._poster import REFERENCE_URL

URL = "http://weixin.qq.com/q/02AbCdEfGhIjKlMnOpQrSt1x"
BOUNDS = ImageBounds(max_bytes=5_000_000, max_pixels=A4[0] * A4[1], min_side=200)


@pytest.fixture(scope="module")
def busy() -> bytes:
    return busy_artwork()


def _art(artwork: bytes, layout: dict[str, object], **static: str) -> PosterArt:
    parsed = PosterLayout.from_dict(layout, *A4)
    return PosterArt(decode_rgb(artwork), parsed, None, MIN_MODULE_PX, static)


def test_a_poster_is_print_size_and_its_code_decodes(busy: bytes) -> None:
    art = _art(busy, sample_layout(), group="春季")
    poster = render_poster(art, URL, {"channel_name": "北京 一号店"}, "png")
    image = Image.open(io.BytesIO(poster))
    assert image.size == A4
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)
    assert decode_png(poster) == URL


def test_a_small_code_on_a_busy_artwork_still_decodes(busy: bytes) -> None:
    # 330 px for a 41-module symbol: 8 px a module, 0.68 mm printed.
    layout = {"code": {"x": 1900, "y": 3000, "size": 330}}
    for fmt in ("png", "jpeg"):
        poster = render_poster(_art(busy, layout), URL, {}, fmt)
        assert decode_png(poster) == URL


def test_a_pdf_poster_is_a_pdf(busy: bytes) -> None:
    pdf = render_poster(_art(busy, {"code": {"x": 100, "y": 100, "size": 600}}), URL, {}, "pdf")
    assert pdf.startswith(b"%PDF")


def test_captions_use_the_values_and_a_cjk_font(busy: bytes) -> None:
    plain = plain_image(A4, "PNG", "#ffffff")
    layout = {
        "code": {"x": 100, "y": 100, "size": 600},
        "captions": [{"text": "{channel_name}", "x": 100, "y": 2000, "width": 2280}],
    }
    art = _art(plain, layout)
    with_text = Image.open(io.BytesIO(render_poster(art, URL, {"channel_name": "渠道"}, "png")))
    without = Image.open(io.BytesIO(render_poster(art, URL, {"channel_name": ""}, "png")))
    box = (100, 2000, 2380, 2100)
    # The glyphs of 渠道 are drawn (a font without CJK glyphs draws boxes or nothing).
    drawn = with_text.crop(box).convert("L").histogram()[:128]
    assert sum(drawn) > 500
    assert sum(without.crop(box).convert("L").histogram()[:128]) == 0


def test_wrapping_keeps_captions_in_their_box() -> None:
    plain = plain_image(A4, "PNG", "#ffffff")
    caption = {"text": "长" * 40, "x": 200, "y": 2000, "width": 800, "font_size": 80}
    art = _art(plain, {"code": {"x": 100, "y": 100, "size": 600}, "captions": [caption]})
    image = Image.open(io.BytesIO(render_poster(art, URL, {}, "png"))).convert("L")
    dark_columns = [
        x for x in range(A4[0]) if image.crop((x, 2000, x + 1, 2500)).getextrema()[0] < 128
    ]
    assert min(dark_columns) >= 200
    assert max(dark_columns) <= 1000
    # Three lines at most, the last one ending with an ellipsis: nothing below them.
    assert image.crop((0, 2000 + 4 * 104, A4[0], 2800)).getextrema()[0] > 128


def test_the_batch_base_is_drawn_once_with_the_common_captions(busy: bytes) -> None:
    art = _art(busy, sample_layout(), group="春季")
    first = art.base
    art.draw(URL, {"channel_name": "a"})
    assert art.base is first
    # A caption using only the batch's common values is in the base already.
    title = (160, 500, 2320, 700)
    assert first.crop(title).tobytes() == art.draw(URL, {"channel_name": "b"}).crop(title).tobytes()


def test_a_batch_in_a_pool_comes_back_in_order_and_decodes(busy: bytes) -> None:
    layout = PosterLayout.from_dict(sample_layout(600), *A4)
    jobs = [PosterJob(f"{URL}{n:02d}", {"channel_name": f"渠道 {n}"}) for n in range(10)]
    spec = BatchSpec(busy, layout, None, MIN_MODULE_PX, {"group": "g"}, "jpeg")
    seen: list[int] = []
    posters = list(render_batch(spec, jobs, workers=2, progress=lambda d, _t: seen.append(d)))
    assert seen == list(range(1, 11))
    for n in (0, 4, 9):  # a sample of the batch
        assert decode_png(posters[n]) == jobs[n].url


def test_a_code_box_too_small_to_scan_is_refused_with_the_reason() -> None:
    small = PosterLayout.from_dict({"code": {"x": 0, "y": 0, "size": 200}}, *A4).code
    with pytest.raises(StyleRefused) as refused:
        check_code_box(small, minimum=MIN_MODULE_PX)
    message = str(refused.value)
    assert "200 px" in message
    assert "per module" in message
    assert "300 dpi" in message
    assert "at least" in message
    fits = PosterLayout.from_dict({"code": {"x": 0, "y": 0, "size": 41 * 6}}, *A4).code
    assert check_code_box(fits, REFERENCE_URL, minimum=MIN_MODULE_PX) == 6


@pytest.mark.parametrize(
    ("layout", "words"),
    [
        ({}, "code"),
        ({"code": {"x": 2400, "y": 0, "size": 400}}, "x must be"),
        ({"code": {"x": 0, "y": 0, "size": 400, "dark": "#ffffff"}}, "not darker"),
        ({"code": {"x": 0, "y": 0, "size": 400, "dark": "#cccccc"}}, "contrast"),
        (
            {
                "code": {"x": 0, "y": 0, "size": 400},
                "captions": [{"text": "{x.__class__}", "x": 0, "y": 0}],
            },
            "placeholder",
        ),
        (
            {
                "code": {"x": 0, "y": 0, "size": 400},
                "captions": [{"text": "{scene!r}", "x": 0, "y": 0}],
            },
            "placeholder",
        ),
        (
            {
                "code": {"x": 0, "y": 0, "size": 400},
                "captions": [{"text": "a", "x": 0, "y": 0, "align": "justify"}],
            },
            "align",
        ),
    ],
)
def test_bad_layouts_are_refused(layout: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        PosterLayout.from_dict(layout, *A4)


def test_colours_and_logos_are_checked_by_rule() -> None:
    check_colours("#07c160", "#ffffff")  # WeChat green on white scans
    with pytest.raises(StyleRefused, match="contrast"):
        check_colours("#bbbbbb", "#ffffff")
    check_logo(0.3, "H")
    with pytest.raises(StyleRefused, match="at most 4%"):
        check_logo(0.3, "M")
    with pytest.raises(StyleRefused, match="no room"):
        check_logo(0.1, "L")


def test_uploads_are_bounded_before_they_are_decoded() -> None:
    assert checked_image(plain_image((300, 400)), BOUNDS).content_type == "image/png"
    assert checked_image(plain_image((300, 400), "JPEG"), BOUNDS).content_type == "image/jpeg"
    refusals = {
        b"": "empty",
        b"x" * 5_000_001: "bytes",
        b"GIF89a...": "not a readable",
        plain_image((300, 400), "GIF"): "not a readable",
        plain_image((100, 400)): "at least 200",
        plain_image((300, 400))[:200]: "not a readable",
        _bomb(60_000, 60_000): "pixels",
    }
    for data, words in refusals.items():
        with pytest.raises(ImageRefused, match=words):
            checked_image(data, BOUNDS)


def _bomb(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge canvas (its pixels would take gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_fonts_are_searched_and_a_missing_one_says_what_to_install(tmp_path: Path) -> None:
    assert find_cjk_font().is_file()  # fonts-noto-cjk (CI installs it)
    with pytest.raises(FontNotFound, match="no such font"):
        find_cjk_font(str(tmp_path / "missing.ttf"))
    font = tmp_path / "mine.ttc"
    font.write_bytes(find_cjk_font().read_bytes()[:10])
    assert find_cjk_font(str(font)) == font


def test_no_cjk_font_anywhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wxqr.render._fonts.FONT_SEARCH_ORDER", ("/nonexistent/*.ttc",))
    with pytest.raises(FontNotFound, match="fonts-noto-cjk"):
        find_cjk_font()


def test_a_poster_leaves_nothing_behind_for_the_next(busy: bytes) -> None:
    """Posters are drawn into the batch's base and the touched regions put back."""
    layout = sample_layout(600)
    art = _art(busy, layout, group="g")
    render_poster(art, URL + "a", {"channel_name": "一个很长很长的渠道名称" * 3}, "png")
    second = render_poster(art, URL + "b", {"channel_name": "短"}, "png")
    fresh = render_poster(_art(busy, layout, group="g"), URL + "b", {"channel_name": "短"}, "png")
    assert second == fresh
