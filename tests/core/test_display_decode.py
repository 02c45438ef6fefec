"""`imaging.decode_for_display`: what the preview and the viewer show, decoded with the
indexer's guards, upright, fitted to a box and never enlarged."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photo_tagger.core.imaging import PhotoDecodeError, decode_for_display


def _camera_photo(path: Path, size: tuple[int, int], orientation: int = 1, **save_args) -> Path:
    """Stored `size`, left half white; EXIF says how to turn it upright."""
    w, h = size
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[:, : w // 2] = 255
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, exif=exif, **save_args)
    return path


def test_a_large_jpeg_is_decoded_to_fit_the_box(tmp_path: Path) -> None:
    path = _camera_photo(tmp_path / "big.jpg", (4000, 3000), quality=90)
    image = decode_for_display(path, (1600, 1000))
    assert image.mode == "RGB" and image.size == (1333, 1000)


def test_a_photo_turned_by_exif_is_upright_and_fits_the_box(tmp_path: Path) -> None:
    path = _camera_photo(tmp_path / "portrait.jpg", (4000, 3000), orientation=6, quality=90)
    image = decode_for_display(path, (1600, 1000))
    assert image.size == (750, 1000)
    top, bottom = image.getpixel((375, 20)), image.getpixel((375, 980))
    assert min(top) > 200 and max(bottom) < 50  # the stored left half is now on top


def test_a_small_photo_is_not_enlarged(tmp_path: Path) -> None:
    path = _camera_photo(tmp_path / "small.png", (400, 300))
    assert decode_for_display(path, (1600, 1000)).size == (400, 300)


def test_a_heic_photo_is_decoded(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "phone.heic"
    Image.fromarray(np.full((900, 1200, 3), 128, np.uint8)).save(path, "HEIF")
    assert decode_for_display(path, (800, 800)).size == (800, 600)


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(PhotoDecodeError, match="not a regular file"):
        decode_for_display(fifo, (800, 800))


def test_a_truncated_file_is_an_error(tmp_path: Path) -> None:
    path = _camera_photo(tmp_path / "cut.jpg", (1200, 900), quality=90)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(PhotoDecodeError, match="truncated"):
        decode_for_display(path, (800, 800))


def test_a_png_claiming_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    Image.new("L", (12_000, 9_000)).save(path, compress_level=1)  # 108 MP, a few hundred KB
    with pytest.raises(PhotoDecodeError, match="too large"):
        decode_for_display(path, (800, 800))
