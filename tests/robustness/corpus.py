"""A generated corpus of hostile files: each entry is a file (or a non-file) that has
broken image tools before, and what the index must make of it.

`build_corpus(root)` writes everything under `root` and returns {relative path: expected},
where expected is "ok" (a strange but valid photo that must be indexed) or a fragment of
the error message its catalogue row must carry.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from photos import noise_photo
from PIL import Image

OK = "ok"
# Raw bytes of a name that is not valid UTF-8 (a Latin-1 'é' from an old camera card).
BAD_UTF8_NAME = b"caf\xe9 latin1.jpg"


def _jpeg(image: Image.Image, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **save_args)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, raw_rows: bytes, level: int = 9) -> bytes:
    """A PNG written by hand, so its header can claim anything."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw_rows, level))
        + _png_chunk(b"IEND", b"")
    )


def large_png(side: int = 9500) -> bytes:
    """A legal `side` x `side` RGB PNG: 1.2 MB on disk at the default 90 MP, but 270 MB and
    a few seconds to decode, so also a real slow decode."""
    return png_bytes(side, side, 8, 2, (b"\x00" + b"\x40" * (side * 3)) * side, level=1)


def broken_exif_jpeg(base: bytes) -> bytes:
    """A valid JPEG with an APP1 Exif segment whose IFD offset points far past its end."""
    tiff = b"II*\x00" + struct.pack("<I", 0x7FFFFF00) + os.urandom(64)
    payload = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return base[:2] + segment + base[2:]


def _exif_jpeg(image: Image.Image, orientation: int, date: str) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[306] = date
    return _jpeg(image, exif=exif)


def _gif_header_bomb(width: int, height: int) -> bytes:
    """A well-formed GIF whose one frame claims `width` x `height` pixels."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x4c\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


def _many_frames_gif(frames: int) -> bytes:
    palette_frames = [Image.new("P", (8, 8), i % 2) for i in range(frames)]
    for frame in palette_frames:
        frame.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    buffer = io.BytesIO()
    palette_frames[0].save(buffer, "GIF", save_all=True, append_images=palette_frames[1:], duration=10, loop=0)
    return buffer.getvalue()


def build_corpus(root: Path) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    photo = noise_photo(7, (320, 240))
    good_jpeg = _jpeg(photo, quality=85)
    good_png = io.BytesIO()
    photo.save(good_png, "PNG")
    files: dict[str, bytes] = {
        "truncated.jpg": good_jpeg[: len(good_jpeg) // 2],
        "truncated.png": good_png.getvalue()[: len(good_png.getvalue()) // 2],
        "empty.jpg": b"",
        "random.jpg": os.urandom(4096),
        "random.png": os.urandom(4096),
        "random.heic": os.urandom(4096),
        "text.tiff": b"just some text, not a TIFF\n" * 20,
        # 50,000 x 50,000 RGB claims 7.5 GB; the file is a few hundred bytes.
        "bomb.png": png_bytes(50_000, 50_000, 8, 2, b"\x00" * 10_000),
        "bomb.gif": _gif_header_bomb(65_000, 65_000),
        "frames.gif": _many_frames_gif(3000),
        "cmyk.jpg": _jpeg(photo.convert("CMYK"), quality=85),
        "palette.png": b"",
        "grey16.png": b"",
        "rgb48.png": png_bytes(64, 48, 16, 2, b"".join(b"\x00" + os.urandom(64 * 6) for _ in range(48))),
        "broken exif.jpg": broken_exif_jpeg(good_jpeg),
        "odd orientation.jpg": _exif_jpeg(photo, 99, "not a date"),
        "rotated.jpg": _exif_jpeg(photo, 6, "2024:02:30 25:61:61"),
        "png named.jpg": good_png.getvalue(),
        "line\nbreak.jpg": good_jpeg,
        " spaces .jpg": good_jpeg,
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    palette = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    palette.save(root / "palette.png", transparency=0)
    grey16 = np.linspace(0, 65535, 320 * 240, dtype=np.uint16).reshape(240, 320)
    Image.fromarray(grey16).save(root / "grey16.png")
    photo.convert("CMYK").save(root / "cmyk.tif")

    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to("..", target_is_directory=True)
    (root / "self.jpg").symlink_to("self.jpg")
    (root / "dangling.jpg").symlink_to("nowhere.jpg")
    os.mkfifo(root / "fifo.jpg")
    bad_name = os.fsencode(root) + b"/" + BAD_UTF8_NAME
    with open(bad_name, "wb") as fh:
        fh.write(good_jpeg)

    expected = {
        "truncated.jpg": "truncated",
        "truncated.png": "truncated",
        "empty.jpg": "empty file",
        "random.jpg": "not an image",
        "random.png": "not an image",
        "random.heic": "not an image",
        "text.tiff": "not an image",
        "bomb.png": "too large",
        "bomb.gif": "too large",
        "frames.gif": OK,
        "cmyk.jpg": OK,
        "cmyk.tif": OK,
        "palette.png": OK,
        "grey16.png": OK,
        "rgb48.png": OK,
        "broken exif.jpg": OK,
        "odd orientation.jpg": OK,
        "rotated.jpg": OK,
        "png named.jpg": OK,
        "line\nbreak.jpg": OK,
        " spaces .jpg": OK,
        "self.jpg": "cannot read file",
        "dangling.jpg": "cannot read file",
        "fifo.jpg": "not a regular file",
        "caf\\xe9 latin1.jpg": "not valid UTF-8",
    }
    return expected
