"""The grid's delegate spreads rendering over event-loop passes: a jump to rows never shown
paints drafts at once and whole cells soon after, never more than a budget per pass."""

from __future__ import annotations

import io
from pathlib import Path

from catalogue_rows import add_photo
from PIL import Image
from PySide6.QtWidgets import QApplication

from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.gui import thumb_delegate
from photo_tagger.gui.app import make_app
from photo_tagger.gui.main_window import MainWindow


def big_library(root: Path, photos: int) -> Path:
    """`photos` rows with a stored thumbnail each (no decoding, no model)."""
    root.mkdir()
    library = Library.open(root)
    buffer = io.BytesIO()
    Image.new("RGB", (256, 192), (90, 140, 200)).save(buffer, "JPEG")
    with Catalogue(library.catalogue_path) as catalogue:
        ids = [add_photo(catalogue, f"roll/photo{i:04d}.jpg") for i in range(photos)]
        with catalogue.transaction() as conn:
            conn.executemany("INSERT INTO thumbnails VALUES (?, 256, 192, ?)",
                             [(i, buffer.getvalue()) for i in ids])
    return root


def test_a_jump_far_down_renders_a_budget_per_pass_and_every_cell_in_the_end(qtbot, settings, tmp_path,
                                                                              monkeypatch) -> None:
    make_app()
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_library(big_library(tmp_path / "Big", 600), index=False)
    qtbot.waitUntil(lambda: window.model.rowCount() == 600)
    delegate = window.grid.itemDelegate()
    renders_per_pass: list[int] = []
    end_pass = delegate._end_pass

    def counting_end_pass() -> None:
        renders_per_pass.append(delegate._rendered)
        end_pass()

    monkeypatch.setattr(delegate, "_end_pass", counting_end_pass)
    delegate._pass_end.timeout.disconnect()
    delegate._pass_end.timeout.connect(delegate._end_pass)

    window.grid.setCurrentIndex(window.model.index(550))  # scrolls to rows never painted
    qtbot.waitUntil(lambda: 550 in window.grid.visible_rows())
    viewport = window.grid.viewport().rect()
    on_screen = [window.model.photo_id(r) for r in window.grid.visible_rows() if r < 600
                 and window.grid.visualRect(window.model.index(r)).intersects(viewport)]
    assert len(on_screen) > thumb_delegate.RENDERS_PER_PASS

    def all_rendered_with_thumbnails() -> bool:
        QApplication.processEvents()
        cells = [delegate._cells.get(i) for i in on_screen]
        return all(c is not None and c[0][1] is not None for c in cells)  # key[1]: the thumbnail

    qtbot.waitUntil(all_rendered_with_thumbnails, timeout=10000)
    assert renders_per_pass and max(renders_per_pass) <= thumb_delegate.RENDERS_PER_PASS + 1
    window.close()
