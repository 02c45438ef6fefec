"""Warnings Pillow raises about a damaged photo go to our log with the file's name; the
command line never prints them."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from photos import noise_photo
from robustness.corpus import broken_exif_jpeg

from photo_tagger.core.decode_warnings import warnings_logged
from photo_tagger.core.imaging import decode_photo

EXE = shutil.which("photo-tagger", path=os.path.dirname(sys.executable)) or "photo-tagger"


def _write_broken_exif_jpeg(path: Path) -> Path:
    buffer = io.BytesIO()
    noise_photo(5, (320, 240)).save(buffer, "JPEG", quality=85)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(broken_exif_jpeg(buffer.getvalue()))
    return path


def test_indexing_a_photo_with_broken_exif_prints_no_python_warning(tmp_path: Path, embedder) -> None:
    # `embedder` fills the session's ONNX cache, so the command does not export the model.
    root = tmp_path / "Photos"
    _write_broken_exif_jpeg(root / "broken exif.jpg")
    _write_broken_exif_jpeg(root / "nested" / "also broken.jpg")
    # cwd outside the checkout: the source tree has no models or resources of its own
    result = subprocess.run([EXE, "index", str(root)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert "warnings.warn" not in result.stderr
    assert "EXIF" not in result.stderr


def test_a_pillow_warning_is_logged_with_the_name_of_the_photo(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    path = _write_broken_exif_jpeg(tmp_path / "holiday.jpg")
    caplog.set_level(logging.DEBUG, logger="photo_tagger.core.decode_warnings")
    warnings.simplefilter("always")  # a message seen earlier in this process shows again
    decoded = decode_photo(path, 256)
    assert decoded.width == 320
    assert f"{path}: UserWarning: Corrupt EXIF data" in caplog.text
    assert not [w for w in recwarn if "EXIF" in str(w.message)]


def test_a_warning_outside_a_photo_read_is_passed_on_unchanged() -> None:
    with warnings_logged("some.jpg"):
        pass  # the hook is installed now
    with pytest.warns(UserWarning, match="not about a photo"):
        warnings.warn("not about a photo", UserWarning, stacklevel=1)


def test_each_thread_logs_warnings_under_its_own_photo(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="photo_tagger.core.decode_warnings")
    warnings.simplefilter("always")
    start = threading.Barrier(4)

    def read(name: str) -> None:
        with warnings_logged(name):
            start.wait()
            for _ in range(50):
                warnings.warn(f"about {name}", UserWarning, stacklevel=1)

    threads = [threading.Thread(target=read, args=(f"photo{i}.jpg",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 200
    assert all(line == f"{line.split(':')[0]}: UserWarning: about {line.split(':')[0]}" for line in lines)
