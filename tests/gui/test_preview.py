"""The preview decodes the photo in a worker at the size it is shown, upright."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QSize

from photo_tagger.gui.preview import read_scaled


def camera_photo(path: Path, orientation: int) -> Path:
    """400 x 300 as stored, left half white; EXIF says how to turn it upright."""
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[:, :200] = 255
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, exif=exif, quality=95)
    return path


def test_a_portrait_photo_is_decoded_upright_at_the_size_that_fits(qapp, tmp_path: Path) -> None:
    path = camera_photo(tmp_path / "portrait.jpg", 6)  # stored landscape, shown portrait
    assert read_scaled(path).size() == QSize(300, 400)
    assert read_scaled(path, fit=QSize(150, 200)).size() == QSize(150, 200)
    assert read_scaled(path, fit=QSize(200, 150)).size() == QSize(113, 150)  # not squashed (112.5 rounded)
    upright = read_scaled(path, fit=QSize(150, 200))
    assert upright.pixelColor(75, 20).value() > 200 and upright.pixelColor(75, 180).value() < 50  # top white


def test_a_small_photo_is_never_blown_up_while_decoding(qapp, tmp_path: Path) -> None:
    path = camera_photo(tmp_path / "small.jpg", 1)
    assert read_scaled(path, fit=QSize(1600, 1200)).size() == QSize(400, 300)
    assert read_scaled(path, max_side=200).size() == QSize(200, 150)


def test_a_heic_photo_gets_a_full_size_preview(qapp, tmp_path: Path) -> None:
    """Qt has no HEIC plugin here: the preview decodes through core.imaging (pillow-heif)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / "phone.heic"
    Image.fromarray(np.full((1200, 1800, 3), 90, np.uint8)).save(path, "HEIF")
    assert read_scaled(path, fit=QSize(900, 900)).size() == QSize(900, 600)
