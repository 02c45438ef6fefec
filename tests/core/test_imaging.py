"""One decode gives a thumbnail and the model input; every bad file gets a clear error."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from photos import noise_photo, sample_photo, save_photo
from PIL import Image

from photo_tagger.core.imaging import THUMBNAIL_SIZE, PhotoDecodeError, decode_photo

MODEL_SIDE = 256  # the shorter side the caller asks for (the indexer asks per backbone)


def test_large_jpeg_is_draft_decoded_to_model_and_thumbnail_sizes(tmp_path: Path) -> None:
    path = save_photo(noise_photo(1, (4000, 3000)), tmp_path / "big.jpg", quality=90)
    decoded = decode_photo(path, MODEL_SIDE)
    assert (decoded.width, decoded.height) == (4000, 3000)
    assert min(decoded.model_image.size) == MODEL_SIDE
    assert max(decoded.thumbnail_size) == THUMBNAIL_SIZE
    assert Image.open(io.BytesIO(decoded.thumbnail_jpeg)).format == "JPEG"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = noise_photo(2, (600, 400))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = save_photo(image, tmp_path / "rotated.jpg", exif=exif)
    decoded = decode_photo(path, MODEL_SIDE)
    assert (decoded.width, decoded.height) == (400, 600)
    assert decoded.model_image.size[1] > decoded.model_image.size[0]


def test_exif_date_is_read(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2021:07:04 15:30:00"
    path = save_photo(noise_photo(3), tmp_path / "dated.jpg", exif=exif)
    assert decode_photo(path, MODEL_SIDE).taken_at == "2021-07-04T15:30:00"


@pytest.mark.parametrize(
    "name, save_args",
    [("a.png", {}), ("a.webp", {}), ("a.tiff", {}), ("a.bmp", {}), ("a.gif", {})],
)
def test_common_formats_decode(tmp_path: Path, name: str, save_args: dict) -> None:
    path = save_photo(sample_photo("chelsea"), tmp_path / name, **save_args)
    decoded = decode_photo(path, MODEL_SIDE)
    assert decoded.model_image.mode == "RGB"
    assert (decoded.width, decoded.height) == (451, 300)


def test_heic_decodes(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif")
    path = save_photo(sample_photo("chelsea"), tmp_path / "cat.heic", quality=80)
    assert decode_photo(path, MODEL_SIDE).model_image.mode == "RGB"


def test_cmyk_palette_and_16_bit_images_become_rgb(tmp_path: Path) -> None:
    rgb = sample_photo("chelsea")
    save_photo(rgb.convert("CMYK"), tmp_path / "cmyk.jpg")
    save_photo(rgb.convert("P"), tmp_path / "palette.png")
    grey16 = Image.fromarray(np.asarray(rgb.convert("L"), np.uint16) * 257)
    save_photo(grey16, tmp_path / "deep.png")
    for name in ("cmyk.jpg", "palette.png", "deep.png"):
        decoded = decode_photo(tmp_path / name, MODEL_SIDE)
        assert decoded.model_image.mode == "RGB"
        assert np.asarray(decoded.model_image).std() > 10, name  # not all white/black


def test_empty_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(PhotoDecodeError, match="empty file"):
        decode_photo(tmp_path / "empty.jpg", MODEL_SIDE)


def test_non_image_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_bytes(b"hello, I am text" * 100)
    with pytest.raises(PhotoDecodeError, match="not an image"):
        decode_photo(tmp_path / "fake.png", MODEL_SIDE)


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    path = save_photo(noise_photo(4, (1200, 900)), tmp_path / "whole.jpg")
    data = path.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(PhotoDecodeError, match="corrupt or truncated"):
        decode_photo(tmp_path / "cut.jpg", MODEL_SIDE)


def test_decompression_bomb_header_is_refused_before_decoding(tmp_path: Path) -> None:
    # A valid PNG header claiming 50,000 x 50,000 pixels.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(PhotoDecodeError, match="too large"):
        decode_photo(tmp_path / "bomb.png", MODEL_SIDE)
