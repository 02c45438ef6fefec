"""Shared fixtures: real photo files on disk, generated or from scikit-image's samples."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# One ONNX export per test session, in a private cache; never the user's folders.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="photo-tagger-tests-"))
atexit.register(shutil.rmtree, _SESSION_DIR, ignore_errors=True)
os.environ.setdefault("PHOTO_TAGGER_CACHE_DIR", str(_SESSION_DIR / "cache"))
os.environ.setdefault("PHOTO_TAGGER_DATA_DIR", str(_SESSION_DIR / "data"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from photos import sample_photo, save_photo  # noqa: E402
from training_library import corrected_library, embed_variants  # noqa: E402


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    """A small library: real cat/coffee/astronaut photos, a PNG, a nested folder, a
    corrupt file and a text file that must be ignored."""
    root = tmp_path / "My Photos"
    save_photo(sample_photo("chelsea"), root / "cat.jpg", quality=92)
    save_photo(sample_photo("coffee"), root / "drinks" / "coffee.png")
    save_photo(sample_photo("astronaut"), root / "people" / "astronaut é.jpg", quality=90)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (root / "notes.txt").write_text("not a photo")
    return root


@pytest.fixture(scope="session")
def embedder():
    from photo_tagger.core.backbone import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def real_embeddings(embedder):
    """Embeddings of augmented variants of five sample photos (training_library.SOURCES)."""
    return embed_variants(embedder)


@pytest.fixture
def corrected(tmp_path: Path, real_embeddings):
    """(library, photo ids per source) the user corrected: training_library.corrected_library."""
    return corrected_library(tmp_path / "Photos", real_embeddings)
