"""JPEG posters without encoding the whole page each time.

Most of a poster is the base (the artwork with the batch's common captions); only the
code box and the per-channel captions change. The base is encoded once with a restart
marker after every row of MCUs (16 pixel rows at 4:2:0): each row's entropy-coded data is
then independent (the DC predictions restart), and the Huffman and quantisation tables
are libjpeg's standard ones for the quality. A poster is the base's rows with the rows
it touched encoded again (a strip of the page, same width and settings) and spliced in,
the restart markers renumbered. The result is byte for byte what encoding the whole
poster with the same settings gives (the tests compare them), at a fraction of the cost.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from PIL import Image

__all__ = ["JpegRows", "encode_jpeg"]

_QUALITY = 90
_SUBSAMPLING = 2  # 4:2:0: an MCU is 16 × 16 pixels
_MCU = 16
_RST = re.compile(rb"\xff[\xd0-\xd7]")
_SOS = b"\xff\xda"
_EOI = b"\xff\xd9"


def encode_jpeg(image: Image.Image, dpi: int) -> bytes:
    """``image`` as a JPEG with a restart marker after every MCU row (q=90, 4:2:0)."""
    out = io.BytesIO()
    image.save(
        out,
        format="JPEG",
        quality=_QUALITY,
        subsampling=_SUBSAMPLING,
        restart_marker_rows=1,
        dpi=(dpi, dpi),
    )
    return out.getvalue()


def _split(data: bytes) -> tuple[bytes, list[bytes]]:
    """The header (through the SOS segment) and the entropy-coded rows of a JPEG."""
    sos = data.index(_SOS)
    length = int.from_bytes(data[sos + 2 : sos + 4], "big")
    start = sos + 2 + length
    if not data.endswith(_EOI):
        raise ValueError("not a complete JPEG")
    return data[:start], _RST.split(data[start:-2])


class JpegRows:
    """A base image encoded once, ready to have some of its MCU rows replaced."""

    def __init__(self, base: Image.Image, dpi: int) -> None:
        self.width, self.height = base.size
        self.dpi = dpi
        self.header, self.rows = _split(encode_jpeg(base, dpi))
        expected = -(-self.height // _MCU)
        if len(self.rows) != expected:
            raise ValueError(f"expected {expected} MCU rows, found {len(self.rows)}")

    def _ranges(self, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The MCU rows covering the pixel rows ``spans`` (top, bottom), merged."""
        rows = sorted(
            (max(0, top // _MCU), min(len(self.rows), -(-bottom // _MCU)))
            for top, bottom in spans
            if bottom > top
        )
        merged: list[tuple[int, int]] = []
        for first, last in rows:
            if merged and first <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return merged

    def encode(self, image: Image.Image, spans: Sequence[tuple[int, int]]) -> bytes:
        """``image`` (the base with only the pixel rows in ``spans`` changed) as JPEG."""
        rows = list(self.rows)
        for first, last in self._ranges(spans):
            strip = image.crop((0, first * _MCU, self.width, min(self.height, last * _MCU)))
            _, fresh = _split(encode_jpeg(strip, self.dpi))
            if len(fresh) != last - first:
                raise ValueError("the strip's rows do not match the range")
            rows[first:last] = fresh
        body = bytearray(self.header)
        for number, row in enumerate(rows):
            if number:
                body += bytes((0xFF, 0xD0 + (number - 1) % 8))
            body += row
        body += _EOI
        return bytes(body)
