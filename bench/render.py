"""QR rendering throughput: renders per second for a batch of distinct ticket urls.

    python bench/render.py [--count 1000] [--scale 10]

Renders ``--count`` different ``http://weixin.qq.com/q/...`` urls (error level M, border 4,
``--scale`` pixels per module) as PNG and SVG bytes with segno (through wxqr.render, the
code path wxqr uses) and with python-qrcode (the ``qrcode`` package: PIL image factory
for PNG, SvgPathImage for SVG) as the reference, all in one run, and prints a table.
The PNG-with-logo row adds a centred logo (Pillow, error level H).

    python bench/render.py --posters 1000 [--workers 2] [--skip-codes]

Posters (issue 19): posters/s at print size (A4 at 300 dpi, 2480×3508) on a busy
artwork with two CJK captions, one process, PNG (compress level 1), JPEG (q=90) and PDF;
then a zip of ``--posters`` posters (JPEG) rendered by ``--workers`` processes the way
``wxqr poster render --group G --zip`` does (wxqr.render.render_batch), with a progress
bar. Target: 1,000 posters under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import string
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import qrcode  # type: ignore[import-untyped]
import qrcode.constants  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from PIL import Image, ImageDraw
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from _harness import add_output_flag, emit, repeat, spread
from wxqr.render import (
    MIN_MODULE_PX,
    BatchSpec,
    PosterArt,
    PosterJob,
    PosterLayout,
    RenderOptions,
    decode_rgb,
    render_batch,
    render_png,
    render_poster,
    render_svg,
)

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
    parser.add_argument("--posters", type=int, default=0, help="posters in the zip (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="runs of the per-poster figures")
    parser.add_argument("--skip-codes", action="store_true", help="posters only")
    add_output_flag(parser)
    args = parser.parse_args()
    if not args.skip_codes:
        codes(args)
    if args.posters:
        posters(args)


def codes(args: argparse.Namespace) -> None:
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


A4 = (2480, 3508)
LAYOUT = {
    "code": {"x": 790, "y": 1700, "size": 900},
    "captions": [
        {
            "text": "{group} · 扫码关注",
            "x": 160,
            "y": 500,
            "width": 2160,
            "font_size": 150,
            "colour": "#ffffff",
            "align": "center",
        },
        {
            "text": "{channel_name}",
            "x": 160,
            "y": 2680,
            "width": 2160,
            "font_size": 110,
            "colour": "#ffe082",
            "align": "center",
        },
    ],
}


def busy_artwork() -> bytes:
    """A4 with detail everywhere (2,500 coloured discs), as JPEG: the worst case to encode."""
    image = Image.new("RGB", A4, "#203040")
    draw = ImageDraw.Draw(image)
    rnd = random.Random(19)
    for _ in range(2500):
        x, y, r = rnd.randrange(A4[0]), rnd.randrange(A4[1]), rnd.randrange(8, A4[0] // 12)
        draw.ellipse((x, y, x + r, y + r), fill=tuple(rnd.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def posters(args: argparse.Namespace) -> None:
    artwork = busy_artwork()
    layout = PosterLayout.from_dict(LAYOUT, *A4)
    batch = urls(args.posters)
    values = [{"channel_name": f"门店 {n:04d} 号"} for n in range(args.posters)]
    art = PosterArt(decode_rgb(artwork), layout, None, MIN_MODULE_PX, {"group": "春季活动"})
    _ = art.base
    rows: list[dict[str, object]] = []
    for fmt in ("png", "jpeg", "pdf"):
        sizes: list[int] = []
        seconds = spread(
            repeat(
                lambda f=fmt, s=sizes: s.append(len(render_poster(art, batch[0], values[0], f))),
                args.runs,
                number=5,
            )
        )
        rows.append(
            {
                "case": f"1 poster {fmt.upper()} (1 process)",
                "posters/s": f"{1 / seconds.median:.1f}",
                "ms/poster": f"{seconds.median * 1000:.0f} "
                f"({seconds.low * 1000:.0f}–{seconds.high * 1000:.0f})",
                "avg bytes": sum(sizes) // len(sizes),
            }
        )
    spec = BatchSpec(artwork, layout, None, MIN_MODULE_PX, {"group": "春季活动"}, "jpeg")
    jobs = [PosterJob(url, value) for url, value in zip(batch, values, strict=True)]
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posters.zip"
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive, Progress(*columns) as bar:
            task = bar.add_task("rendering posters", total=len(jobs))
            for n, poster in enumerate(
                render_batch(
                    spec,
                    jobs,
                    workers=args.workers,
                    progress=lambda d, _t: bar.update(task, completed=d),
                )
            ):
                archive.writestr(f"poster-{n:04d}.jpg", poster)
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        size = path.stat().st_size
    rows.append(
        {
            "case": f"zip of {len(jobs)} JPEG ({args.workers} processes)",
            "posters/s": f"{len(jobs) / elapsed:.1f}",
            "ms/poster": f"{elapsed / len(jobs) * 1000:.0f} (total {elapsed:.1f} s)",
            "avg bytes": size // len(jobs),
        }
    )
    # On a shared machine the wall time depends on the neighbours; the CPU time spent
    # (this process and the workers) divided by the workers is the time on idle cores.
    rows.append(
        {
            "case": f"  its CPU time / {args.workers} (idle cores)",
            "posters/s": f"{len(jobs) / (cpu / args.workers):.1f}",
            "ms/poster": f"{cpu / len(jobs) * 1000:.0f} CPU (≈{cpu / args.workers:.1f} s)",
            "avg bytes": "",
        }
    )
    print(
        f"posters at 2480×3508 (A4, 300 dpi), busy artwork, 2 CJK captions, {os.cpu_count()} CPUs"
    )
    emit(rows, args)


if __name__ == "__main__":
    main()
