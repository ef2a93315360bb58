"""JPEG posters spliced from the base's rows (wxqr.render._jpeg_rows): byte for byte the
JPEG of the whole poster, and the code in it decodes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.support.artwork import busy_artwork, sample_layout
from tests.support.qr import decode_png
from wxqr.render import MIN_MODULE_PX, CodeLook, PosterArt, PosterLayout, decode_rgb
from wxqr.render._jpeg_rows import JpegRows, encode_jpeg

URLS = [f"http://weixin.qq.com/q/02AbCdEfGhIjKlMnOp{n:04d}x" for n in range(3)]


@pytest.fixture(scope="module")
def art() -> PosterArt:
    image = decode_rgb(busy_artwork())
    layout = PosterLayout.from_dict(sample_layout(), *image.size)
    return PosterArt(image, layout, None, MIN_MODULE_PX, {"group": "春季"})


def test_a_spliced_poster_is_the_jpeg_of_the_whole_poster(art: PosterArt) -> None:
    look = CodeLook("#0d47a1", "#fff8e1", "q")
    for n, url in enumerate(URLS):
        values = {"channel_name": f"门店 {n} 号"}
        chosen = look if n == 1 else None
        spliced = art.encoded(url, values, "jpeg", chosen)
        whole = encode_jpeg(art.draw(url, values, chosen), 300)
        assert spliced == whole  # the same bytes, whatever rows were spliced
        assert decode_png(spliced) == url
        assert Image.open(io.BytesIO(spliced)).info["dpi"] == (300, 300)
    # The first poster was encoded whole, the next ones spliced from the base's rows.
    assert art._jpeg is not None


def test_rows_anywhere_including_the_last_partial_one() -> None:
    base = Image.new("RGB", (300, 250), "#336699")  # 250: the last MCU row is 10 px high
    rows = JpegRows(base, 300)
    changed = base.copy()
    changed.paste("#ffffff", (0, 0, 40, 20))
    changed.paste("#ff0000", (100, 230, 200, 250))
    spans = [(0, 20), (230, 250), (5, 6)]
    assert rows.encode(changed, spans) == encode_jpeg(changed, 300)
    assert rows.encode(base, []) == encode_jpeg(base, 300)
