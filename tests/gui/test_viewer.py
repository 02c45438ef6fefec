"""The viewer: Space or a double-click on the grid shows the photo fitted to the window,
arrows step through the grid's photos, the tag keys work there, Escape goes back."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from gui.helpers import open_window, select, settle
from photos import sample_photo, save_photo
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from photo_tagger.core.browse import selection_tags
from photo_tagger.core.indexer import index_library
from photo_tagger.core.library import Library


def _portrait_stored_landscape(path: Path) -> Path:
    """2400 x 1600 as stored, left half white; EXIF orientation 6 turns it upright."""
    pixels = np.zeros((1600, 2400, 3), np.uint8)
    pixels[:, :1200] = 255
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(path, exif=exif, quality=90)
    return path


@pytest.fixture(scope="module")
def viewer_template(indexed_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The GUI template plus a large photo, an EXIF-turned one and a HEIC one."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    root = tmp_path_factory.mktemp("viewer") / "Holiday"
    shutil.copytree(indexed_template, root)
    save_photo(sample_photo("chelsea").resize((3000, 2000)), root / "big.jpg", quality=90)
    _portrait_stored_landscape(root / "portrait.jpg")
    sample_photo("coffee").resize((1800, 1200)).save(root / "phone.heic", "HEIF")
    for _ in index_library(Library.open(root)):
        pass
    return root


@pytest.fixture
def viewer_window(qtbot, settings, viewer_template: Path, tmp_path: Path) -> Iterator:
    root = tmp_path / "Holiday"
    shutil.copytree(viewer_template, root)
    win = open_window(qtbot, settings, root)
    yield win
    win.close()


def _open_on(window, qtbot, name: str) -> int:
    photo_id = select(window, name)[0]
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert window.viewer.isVisible() and window.viewer.photo_id == photo_id
    return photo_id


def _decoded(window, qtbot) -> None:
    """Wait until the viewer shows the decoded file (not the thumbnail)."""
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.photo_id in viewer._cache or bool(viewer.message), timeout=20000)
    QApplication.processEvents()


def test_space_shows_the_selected_photo_at_the_windows_size_not_the_thumbnails(viewer_window, qtbot) -> None:
    window = viewer_window
    _open_on(window, qtbot, "big.jpg")
    viewer = window.viewer
    assert viewer.hasFocus()
    panel_left = window.panel.mapTo(window, viewer.rect().topLeft()).x()
    assert viewer.width() >= window.grid.width() and viewer.geometry().right() < panel_left  # the panel shows
    assert viewer.height() > window.grid.height()  # over the filter bar too
    _decoded(window, qtbot)
    box = viewer.box()
    assert viewer.pixmap.width() > 256 and viewer.pixmap.width() <= box.width()
    assert viewer.pixmap.height() <= box.height() < 2000  # screen-sized, not the 3000 x 2000 file
    assert not viewer.message


def test_a_double_click_opens_it_too(viewer_window, qtbot) -> None:
    window = viewer_window
    photo_id = select(window, "coffee.jpg")[0]
    rect = window.grid.visualRect(window.grid.currentIndex())
    qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.viewer.isVisible() and window.viewer.photo_id == photo_id


def test_arrows_step_through_the_grid_in_its_order(viewer_window, qtbot) -> None:
    window = viewer_window
    model = window.model
    row = 2
    _open_on(window, qtbot, model.info(row).name)
    qtbot.keyClick(window.viewer, Qt.Key.Key_Right)
    QApplication.processEvents()
    assert window.viewer.photo_id == model.photo_id(row + 1)
    qtbot.keyClick(window.viewer, Qt.Key.Key_Left)
    qtbot.keyClick(window.viewer, Qt.Key.Key_Left)
    QApplication.processEvents()
    assert window.viewer.photo_id == model.photo_id(row - 1)
    assert window.selected_ids() == [model.photo_id(row - 1)]  # what the tag keys act on


def test_the_tag_keys_change_the_viewed_photo_and_undo_works(viewer_window, qtbot) -> None:
    window = viewer_window
    cat_id = _open_on(window, qtbot, "cat.jpg")
    QApplication.processEvents()
    first = window.panel.tags.candidates[0].name
    qtbot.keyClick(window.viewer, Qt.Key.Key_1)
    settle(window)
    assert first in {t.name for t in selection_tags(window.session.catalogue, [cat_id]).confirmed}
    qtbot.keyClick(window.viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(window)
    assert first not in {t.name for t in selection_tags(window.session.catalogue, [cat_id]).confirmed}
    qtbot.keyClick(window.viewer, Qt.Key.Key_Return)  # accept all
    settle(window)
    assert not selection_tags(window.session.catalogue, [cat_id]).suggested
    qtbot.keyClick(window.viewer, Qt.Key.Key_T)
    assert window.panel.add_field.hasFocus()
    qtbot.keyClicks(window.panel.add_field, "Mittens")
    qtbot.keyClick(window.panel.add_field, Qt.Key.Key_Return)
    settle(window)
    assert "Mittens" in {t.name for t in selection_tags(window.session.catalogue, [cat_id]).confirmed}
    qtbot.waitUntil(window.viewer.hasFocus, timeout=2000)  # back to the photo after adding


def test_escape_returns_to_the_grid_on_the_photo_last_viewed(viewer_window, qtbot) -> None:
    window = viewer_window
    _open_on(window, qtbot, "big.jpg")
    qtbot.keyClick(window.viewer, Qt.Key.Key_Right)
    QApplication.processEvents()
    viewed = window.viewer.photo_id
    qtbot.keyClick(window.viewer, Qt.Key.Key_Escape)
    assert not window.viewer.isVisible() and window.preview.isVisible()
    assert window.grid.hasFocus()
    assert window.selected_ids() == [viewed] and window.current_id() == viewed
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)  # and Space toggles
    assert window.viewer.isVisible()
    qtbot.keyClick(window.viewer, Qt.Key.Key_Space)
    assert not window.viewer.isVisible() and window.grid.hasFocus()


def test_a_photo_turned_by_exif_is_shown_upright(viewer_window, qtbot) -> None:
    window = viewer_window
    _open_on(window, qtbot, "portrait.jpg")
    _decoded(window, qtbot)
    image = window.viewer.pixmap.toImage()
    assert image.height() > image.width()  # stored 2400 x 1600
    assert image.pixelColor(image.width() // 2, 10).value() > 200  # the stored left half on top
    assert image.pixelColor(image.width() // 2, image.height() - 10).value() < 50


def test_a_heic_photo_is_shown_full_size_in_the_viewer(viewer_window, qtbot) -> None:
    window = viewer_window
    _open_on(window, qtbot, "phone.heic")
    _decoded(window, qtbot)
    assert window.viewer.pixmap.width() > 256 and not window.viewer.message


@pytest.mark.parametrize("damage", ["fifo", "truncated"])
def test_a_file_that_cannot_be_read_gives_a_message_not_a_hang(viewer_window, qtbot, damage: str) -> None:
    window = viewer_window
    path = window.session.library.root / "big.jpg"
    data = path.read_bytes()
    path.unlink()
    if damage == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(data[: len(data) // 3])
    _open_on(window, qtbot, "big.jpg")
    _decoded(window, qtbot)
    assert "Cannot show this photo" in window.viewer.message
    assert ("not a regular file" if damage == "fifo" else "truncated") in window.viewer.message
    broken = window.viewer.photo_id
    qtbot.keyClick(window.viewer, Qt.Key.Key_Right)  # and it goes on
    QApplication.processEvents()
    assert window.viewer.photo_id != broken
