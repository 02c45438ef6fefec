"""GUI fixtures: one real library indexed once per session through the real core, copied
for each test (copying keeps sizes and mtimes, so the app's own re-index only stats)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui.helpers import open_window
from photos import noise_photo, sample_photo, save_photo
from PySide6.QtCore import QSettings

from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library


@pytest.fixture(scope="session")
def indexed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "Holiday"
    save_photo(sample_photo("chelsea"), root / "cat.jpg", quality=90)
    save_photo(sample_photo("coffee"), root / "coffee.jpg", quality=90)
    save_photo(sample_photo("astronaut"), root / "trip" / "astronaut.jpg", quality=90)
    save_photo(noise_photo(1), root / "trip" / "abstract.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    job = index_library(Library.open(root))
    for _ in job:
        pass
    return root


@pytest.fixture
def library_path(indexed_template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "Holiday"
    shutil.copytree(indexed_template, copy)
    return copy


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings: QSettings, library_path: Path) -> Iterator:
    win = open_window(qtbot, settings, library_path)
    yield win
    win.close()


@pytest.fixture(scope="session")
def trainable_template(indexed_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template plus four more photos: enough for a new tag to be trained (3 photos
    with it, 3 reviewed without it)."""
    root = tmp_path_factory.mktemp("trainable") / "Holiday"
    shutil.copytree(indexed_template, root)
    for seed in range(10, 14):
        save_photo(noise_photo(seed), root / "more" / f"noise{seed}.jpg", quality=90)
    for _ in index_library(Library.open(root)):
        pass
    return root


@pytest.fixture
def trainable_window(qtbot, settings: QSettings, trainable_template: Path, tmp_path: Path) -> Iterator:
    copy = tmp_path / "Holiday"
    shutil.copytree(trainable_template, copy)
    win = open_window(qtbot, settings, copy)
    yield win
    win.close()
