"""QR rendering throughput: renders per second for a batch of distinct ticket urls.

    python bench/render.py [--count 1000] [--scale 10]

Renders ``--count`` different ``http://weixin.qq.com/q/...`` urls (error level M, border 4,
``--scale`` pixels per module) as PNG and SVG bytes with segno (through wxqr.render, the
code path wxqr uses) and with python-qrcode (the ``qrcode`` package: PIL image factory
for PNG, SvgPathImage for SVG) as the reference, all in one run, and prints a table.
The PNG-with-logo row adds a centred logo (Pillow, error level H).
"""

from __future__ import annotations

import argparse
import io
import string
import time
from collections.abc import Callable

import qrcode  # type: ignore[import-untyped]
import qrcode.constants  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from PIL import Image

from wxqr.render import RenderOptions, render_png, render_svg

_ALPHABET = string.ascii_letters + string.digits


def urls(count: int) -> list[str]:
    """``count`` distinct urls shaped like WeChat's (22 characters after /q/)."""
    out = []
    for i in range(count):
        tail, n = [], i * 7919 + 104729
        for _ in range(22):
            n, r = divmod(n * 31 + 17, len(_ALPHABET))
            tail.append(_ALPHABET[r])
        out.append("http://weixin.qq.com/q/" + "".join(tail))
    return out


def _qrcode(url: str, scale: int, factory: type | None) -> bytes:
    buffer = io.BytesIO()
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=scale,
        border=4,
        image_factory=factory,
    )
    qr.add_data(url)
    qr.make(fit=True)
    qr.make_image().save(buffer)
    return buffer.getvalue()


def cases(scale: int) -> dict[str, tuple[str, Callable[[str], bytes]]]:
    options = RenderOptions(scale=scale)
    logo_buffer = io.BytesIO()
    Image.new("RGB", (96, 96), "#e53935").save(logo_buffer, format="PNG")
    with_logo = RenderOptions(scale=scale, logo=logo_buffer.getvalue())
    return {
        "segno PNG": ("wxqr.render", lambda u: render_png(u, options)),
        "python-qrcode PNG": ("reference", lambda u: _qrcode(u, scale, None)),
        "segno SVG": ("wxqr.render", lambda u: render_svg(u, options)),
        "python-qrcode SVG": (
            "reference",
            lambda u: _qrcode(u, scale, qrcode.image.svg.SvgPathImage),
        ),
        "segno PNG + logo": ("wxqr.render", lambda u: render_png(u, with_logo)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    batch = urls(args.count)
    assert len(set(batch)) == len(batch), "urls must be distinct"
    print(f"{args.count} distinct urls, scale {args.scale}, border 4, error level M")
    print(f"{'renderer':<22} {'via':<12} {'renders/s':>10} {'ms/render':>10} {'avg bytes':>10}")
    print("-" * 68)
    for name, (via, render) in cases(args.scale).items():
        start = time.perf_counter()
        total = sum(len(render(url)) for url in batch)
        elapsed = time.perf_counter() - start
        print(
            f"{name:<22} {via:<12} {len(batch) / elapsed:>10.1f} "
            f"{elapsed / len(batch) * 1000:>10.2f} {total // len(batch):>10}"
        )


if __name__ == "__main__":
    main()
