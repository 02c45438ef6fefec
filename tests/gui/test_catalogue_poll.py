"""While a job writes to the catalogue, the window re-reads it in the background and
repaints only what changed."""

from __future__ import annotations

from gui.helpers import select
from PySide6.QtWidgets import QApplication

from photo_tagger.core import tagging


def _row_of(window, name: str) -> int:
    return next(r for r in range(window.model.rowCount()) if window.model.info(r).name == name)


def _commit_elsewhere(window, photo_id: int, tag: str) -> None:
    """What the indexer does: a commit on another connection."""
    other = window.session.library.connect()
    try:
        tagging.set_state(other, [photo_id], tagging.ensure_tag(other, tag), "confirmed")
    finally:
        other.close()


def _thumbnails_shown(window) -> bool:
    model = window.model
    return all(window.thumbs.pixmap(model.photo_id(r)) is not None
               for r in range(model.rowCount()) if model.info(r).status == "ok")


def test_a_poll_repaints_only_the_cell_whose_photo_changed(window, qtbot) -> None:
    qtbot.waitUntil(lambda: _thumbnails_shown(window), timeout=5000)  # their arrival repaints cells too
    QApplication.processEvents()
    row = _row_of(window, "coffee.jpg")
    changed: list[tuple[int, int]] = []
    window.model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
    _commit_elsewhere(window, window.model.photo_id(row), "Espresso")
    window.poll_catalogue()
    qtbot.waitUntil(lambda: bool(changed), timeout=5000)
    assert changed == [(row, row)]
    assert "Espresso" in window.model.info(row).confirmed


def test_a_poll_also_updates_the_tag_panel_and_the_counts(window, qtbot) -> None:
    (cat_id,) = select(window, "cat.jpg")
    window.counts.setText("")
    _commit_elsewhere(window, cat_id, "Mittens")
    window.poll_catalogue()
    qtbot.waitUntil(lambda: "Mittens" in {t.name for t in window.panel.tags.confirmed}, timeout=5000)
    assert "shown" in window.counts.text()


def test_a_snapshot_read_before_a_user_change_is_dropped(window, qtbot) -> None:
    QApplication.processEvents()
    row = _row_of(window, "coffee.jpg")
    _commit_elsewhere(window, window.model.photo_id(row), "Espresso")
    window.poll_catalogue()  # reads in the background ...
    window.refresh()  # ... while the window shows something newer
    qtbot.waitUntil(lambda: not window.catalogue_poll.reading, timeout=5000)
    assert window.catalogue_poll.data_version == -1  # dropped: the next poll reads again
    assert "Espresso" in window.model.info(row).confirmed
