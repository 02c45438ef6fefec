"""Small helpers for driving the main window in tests."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QApplication

from photo_tagger.core.browse import selection_tags


def settle(window) -> None:
    """Let the queued tag edits commit and their results reach the window (undo stack,
    views): what a user sees a moment after a key press."""
    assert window.session.settle(timeout=30), "the catalogue writer did not finish"
    QApplication.processEvents()


def select(window, *names: str) -> list[int]:
    """Select the photos with these file names (the first becomes current); their ids."""
    settle(window)
    model, selection = window.model, window.grid.selectionModel()
    rows = [r for r in range(model.rowCount()) if model.info(r).name in names]
    assert len(rows) == len(names), f"not all of {names} are in the grid"
    selection.clearSelection()
    selection.setCurrentIndex(model.index(rows[0]), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    for row in rows[1:]:
        selection.select(model.index(row), QItemSelectionModel.SelectionFlag.Select)
    QApplication.processEvents()  # the window updates its panels once per event-loop pass
    return [model.photo_id(r) for r in rows]


def tags_of(window, name: str) -> dict[str, set[str]]:
    """state -> tag names of one photo, read from the catalogue."""
    ids = select(window, name)
    tags = selection_tags(window.session.catalogue, ids)
    return {
        "suggested": {t.name for t in tags.suggested},
        "confirmed": {t.name for t in tags.confirmed},
        "rejected": {t.name for t in tags.rejected},
    }


def open_window(qtbot, settings, root):  # type: ignore[no-untyped-def]
    """The real main window on `root` (indexed already), shown and exposed."""
    from photo_tagger.gui.app import make_app
    from photo_tagger.gui.main_window import MainWindow

    make_app()
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    # The template is indexed already; test_indexing.py covers indexing in the app.
    assert win.open_library(root, index=False)
    return win


def open_tag_manager(window, qtbot):  # type: ignore[no-untyped-def]
    """The tag manager over the window's library, its table read."""
    from photo_tagger.gui.tag_manager import TagManager

    manager = TagManager(window.session, window.runner, window)
    qtbot.addWidget(manager)
    table_rows(manager, qtbot)
    return manager


def table_rows(manager, qtbot) -> dict:  # type: ignore[no-untyped-def]
    """name -> row of the tag manager's table, once the queued changes are written and its
    latest read has arrived (it reads off the GUI thread)."""
    assert manager.session.settle(timeout=30), "the catalogue writer did not finish"
    QApplication.processEvents()  # the written change reaches the manager, which reads again
    qtbot.waitUntil(lambda: not manager.reading, timeout=30_000)
    return {row.name: row for row in manager.model.rows}
