"""Which stored photo errors the next index retries, read from the real producers."""

from __future__ import annotations

from pathlib import Path

import pytest

from photo_tagger.core import photo_errors
from photo_tagger.core.imaging import PhotoDecodeError, decode_photo


@pytest.mark.parametrize("message", [
    photo_errors.cannot_read("Input/output error"),
    photo_errors.PERMISSION_DENIED,
    photo_errors.decode_timed_out(60),
    photo_errors.pool_stalled(17),
])
def test_every_message_of_the_moment_is_retried(message: str) -> None:
    assert photo_errors.is_transient(message)


@pytest.mark.parametrize("content", [b"", b"\xff\xd8\xff\xe0 not really a jpeg", b"plain text"])
def test_errors_of_the_file_itself_are_not(tmp_path: Path, content: bytes) -> None:
    photo = tmp_path / "bad.jpg"
    photo.write_bytes(content)
    with pytest.raises(PhotoDecodeError) as caught:
        decode_photo(photo, 256)
    assert not photo_errors.is_transient(str(caught.value))


def test_a_read_failure_from_imaging_is_retried(tmp_path: Path) -> None:
    with pytest.raises(PhotoDecodeError) as caught:
        decode_photo(tmp_path / "gone.jpg", 256)
    assert photo_errors.is_transient(str(caught.value))
