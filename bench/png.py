"""A real, valid PNG of a chosen size that does not shrink under compression.

Screenshots customers attach are already compressed, so a benchmark upload made of flat
colour (which zlib squeezes to a few hundred bytes) would understate the cost of receiving,
hashing and storing one. Random pixels keep the file at the size asked for.
"""

from __future__ import annotations

import random
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(target_bytes: int = 200 * 1024, *, seed: int = 7) -> bytes:
    """An 8-bit RGB PNG whose file size is within a few hundred bytes of `target_bytes`."""
    rng = random.Random(seed)
    width = 320
    row_bytes = width * 3
    # Each row is one filter byte plus its pixels; random pixels do not compress, so the
    # file is about rows * (row_bytes + 1) plus zlib's and the chunks' framing.
    height = max(1, round(target_bytes / (row_bytes + 1)))
    raw = b"".join(b"\x00" + rng.randbytes(row_bytes) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def check_png(data: bytes) -> tuple[int, int]:
    """(width, height) after checking the signature, every CRC and that the pixels inflate."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG signature")
    pos = len(SIGNATURE)
    width = height = 0
    idat = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if len(zlib.decompress(idat)) != height * (width * 3 + 1):
        raise ValueError("pixel data does not match the header")
    return width, height
