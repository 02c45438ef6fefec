"""Decode a photo once into both its thumbnail and the backbone's input.

JPEGs are decoded with DCT scaling (`Image.draft`) straight to roughly the size we need,
so a 12 MP photo costs ~30 ms instead of ~160 ms. Every failure becomes a
`PhotoDecodeError` whose message says what is wrong with the file; warnings about damage
Pillow recovers from go to the log (decode_warnings), not to stderr.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from photo_tagger.core import photo_errors
from photo_tagger.core.decode_warnings import warnings_logged

try:  # HEIC/HEIF (iPhone photos) as a Pillow plugin
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency; stay usable without it
    HEIF_SUPPORTED = False

THUMBNAIL_SIZE = 256
THUMBNAIL_QUALITY = 85
# Refuse anything above this many pixels before decoding (a 50,000 x 50,000 PNG header
# would otherwise ask for 7.5 GB). 200 MP is above any camera sensor sold today.
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Formats without DCT scaling decode every pixel: a 570 KB PNG can claim 196 MP and take
# 1.6 GB and 12 s. Cap those lower, and let only one large full decode run at a time, so
# peak memory stays near one such image (~400 MB) whatever the folder holds.
MAX_FULL_DECODE_PIXELS = 100_000_000
LARGE_DECODE_PIXELS = 16_000_000
_large_decode_lock = threading.Lock()
# Modes that resize() would silently shrink with nearest-neighbour: convert them first.
_CONVERT_BEFORE_SHRINK = ("1", "P", "PA")
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

EXIF_IFD = 0x8769
EXIF_DATETIME_ORIGINAL = 36867
EXIF_DATETIME = 306


class PhotoDecodeError(Exception):
    """The file is not a photo we can read; the message says why."""


@dataclass(frozen=True)
class DecodedPhoto:
    width: int  # of the original, after EXIF orientation
    height: int
    taken_at: str | None  # ISO 8601 from EXIF, if the camera wrote one
    thumbnail_jpeg: bytes
    thumbnail_size: tuple[int, int]
    model_image: Image.Image  # RGB, shorter side >= the requested size, oriented


def decode_photo(path: Path, model_short_side: int) -> DecodedPhoto:
    """Read `path` once; return its thumbnail and an RGB image for the model input, its
    shorter side at least `model_short_side` (the backbone's need: indexer.decode_short_side)."""
    return decode_photo_bytes(_read_photo(path), model_short_side, label=str(path))


def _read_photo(path: Path) -> bytes:
    """The file's bytes; a read error or an empty file is a PhotoDecodeError saying so."""
    try:
        with open_regular_file(path) as fh:
            data = fh.read()
    except OSError as exc:
        raise PhotoDecodeError(photo_errors.cannot_read(exc.strerror or exc)) from exc
    if not data:
        raise PhotoDecodeError("empty file (0 bytes)")
    return data


def open_regular_file(path: Path) -> BinaryIO:
    """Open `path` for reading, refusing anything but a regular file: a FIFO swapped in
    after the scan would otherwise block the reader forever."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return os.fdopen(fd, "rb")


def decode_photo_bytes(data: bytes, model_short_side: int, label: str = "photo in memory") -> DecodedPhoto:
    """`label` names the photo in the log, where warnings about it go (its path)."""
    with warnings_logged(label):
        return _decode(data, model_short_side)


def _decode(data: bytes, model_short_side: int) -> DecodedPhoto:
    with _pillow_errors_named():
        image: Image.Image = Image.open(io.BytesIO(data))
        width, height = image.size
        _refuse_oversized(image)
        needed = max(model_short_side, THUMBNAIL_SIZE)
        scaled = _draft_to(image, needed)
        if not scaled:
            _refuse_full_decode(image)
        with _decode_slot(0 if scaled else width * height):
            # EXIF is read after load: a PNG's getexif() decodes the whole image.
            image.load()
            taken_at = _taken_at(image)
            orientation = _orientation(image)
            image = _shrunk(image, model_short_side)
    rotated = _quarter_turned(orientation)
    model_image = _with_pixels(_to_rgb(_oriented(image, orientation)))
    thumbnail, thumbnail_size = thumbnail_jpeg(model_image)
    full_w, full_h = (height, width) if rotated else (width, height)
    return DecodedPhoto(
        width=full_w,
        height=full_h,
        taken_at=taken_at,
        thumbnail_jpeg=thumbnail,
        thumbnail_size=thumbnail_size,
        model_image=model_image,
    )


def thumbnail_jpeg(image: Image.Image) -> tuple[bytes, tuple[int, int]]:
    """The catalogue's thumbnail of a decoded photo: JPEG bytes and its size, within
    THUMBNAIL_SIZE square."""
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY, optimize=False)
    return buffer.getvalue(), thumb.size


def decode_for_display(path: Path, max_size: tuple[int, int]) -> Image.Image:
    """`path` upright (EXIF orientation applied) as an RGB image that fits in `max_size`
    (width, height), never enlarged: what the preview and the viewer show. The same guards
    as indexing: a regular file only, the pixel caps, JPEGs decoded at a reduced DCT scale.
    Raises `PhotoDecodeError` saying what is wrong with the file."""
    box_w, box_h = max(1, max_size[0]), max(1, max_size[1])
    data = _read_photo(path)
    with warnings_logged(str(path)):
        return _decode_within(data, box_w, box_h)


def _stored_box(orientation: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The box in stored pixels: turned for a photo that EXIF turns a quarter."""
    return (box_h, box_w) if _quarter_turned(orientation) else (box_w, box_h)


def _quarter_turned(orientation: int) -> bool:
    """EXIF orientations 5-8 turn the stored pixels a quarter: width and height swap."""
    return orientation in (5, 6, 7, 8)


def _decode_within(data: bytes, box_w: int, box_h: int) -> Image.Image:
    with _pillow_errors_named():
        image: Image.Image = Image.open(io.BytesIO(data))
        width, height = image.size
        _refuse_oversized(image)
        scaled = isinstance(image, JpegImageFile)
        if scaled:  # its EXIF is in the header: turn the box before choosing the DCT scale
            box = _stored_box(_orientation(image), box_w, box_h)
            _draft_to(image, max(1, int(min(width, height) * min(box[0] / width, box[1] / height, 1.0))))
        else:
            _refuse_full_decode(image)
        with _decode_slot(0 if scaled else width * height):
            # EXIF is read after load: a PNG's getexif() decodes the whole image.
            image.load()
            orientation = _orientation(image)
            image = _to_rgb(image)
            image.thumbnail(_stored_box(orientation, box_w, box_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
        image = _oriented(image, orientation)
    return _with_pixels(image)


@contextmanager
def _pillow_errors_named() -> Iterator[None]:
    """What Pillow raises inside, as the PhotoDecodeError naming the problem (a bug stays a bug)."""
    try:
        yield
    except PhotoDecodeError:
        raise
    except Exception as exc:
        error = _as_decode_error(exc)
        if error is None:
            raise
        raise error from exc


def _with_pixels(image: Image.Image) -> Image.Image:
    if image.size[0] < 1 or image.size[1] < 1:
        raise PhotoDecodeError("image has no pixels")
    return image


def _refuse_oversized(image: Image.Image) -> None:
    """Above MAX_PIXELS Pillow only warns (and that goes to the log): this refuses."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PhotoDecodeError(f"image too large ({width} x {height} pixels; limit {MAX_PIXELS:,})")


def _refuse_full_decode(image: Image.Image) -> None:
    """For a format decoded pixel by pixel (no DCT scaling): refuse what needs too much memory."""
    width, height = image.size
    if width * height > MAX_FULL_DECODE_PIXELS:
        raise PhotoDecodeError(
            f"image too large to decode ({width} x {height} pixels; limit "
            f"{MAX_FULL_DECODE_PIXELS:,} for {image.format or 'this format'})"
        )


def _as_decode_error(exc: Exception) -> PhotoDecodeError | None:
    """What Pillow raised, as the error naming the problem for the user; None for a bug."""
    if isinstance(exc, UnidentifiedImageError):
        return PhotoDecodeError("not an image file, or an unsupported format")
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return PhotoDecodeError(f"image too large ({exc})")
    if isinstance(exc, (OSError, SyntaxError, ValueError, EOFError)):
        return PhotoDecodeError(f"corrupt or truncated image ({exc})")
    if isinstance(exc, MemoryError):
        return PhotoDecodeError("image too large to decode in memory")
    return None


def _draft_to(image: Image.Image, short_side: int) -> bool:
    """Ask the JPEG decoder for the smallest DCT scale that keeps the shorter side at
    least `short_side`. False for formats that must decode every pixel."""
    if not isinstance(image, JpegImageFile):  # JPEG and MPO (a JPEG with extra frames)
        return False
    w, h = image.size
    scale = min(w, h) / short_side
    if scale >= 2:
        image.draft("RGB", (max(1, int(w / scale)), max(1, int(h / scale))))
    return True


@contextmanager
def _decode_slot(full_decode_pixels: int) -> Iterator[None]:
    if full_decode_pixels <= LARGE_DECODE_PIXELS:
        yield
        return
    with _large_decode_lock:
        yield


def _shrunk(image: Image.Image, short_side: int) -> Image.Image:
    if image.mode in _CONVERT_BEFORE_SHRINK:
        image = _to_rgb(image)
    return _shrink_short_side(image, short_side)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # broken EXIF: treat as stored upright
        return 1


def _oriented(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image if method is None else image.transpose(method)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything to white.
        array = np.asarray(image, dtype=np.float32)
        peak = float(array.max()) or 1.0
        image = Image.fromarray((array * (255.0 / max(peak, 255.0))).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def _shrink_short_side(image: Image.Image, short_side: int) -> Image.Image:
    w, h = image.size
    if min(w, h) <= short_side:
        return image
    scale = short_side / min(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _taken_at(image: Image.Image) -> str | None:
    try:
        exif = image.getexif()
        raw = exif.get_ifd(EXIF_IFD).get(EXIF_DATETIME_ORIGINAL) or exif.get(EXIF_DATETIME)
        if not raw:
            return None
        return datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat()
    except Exception:  # missing or malformed EXIF date: not an error for the photo
        return None


ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, not grey pixels
