"""A tag panel you can read: elided names with the full path on hover, the badge counting
the rows listed, ancestors confirmed with a child (one undo), splitter sizes kept, the
preview following the selection when a filter hides the photo."""

from __future__ import annotations

from pathlib import Path

from gui.helpers import select, settle, tags_of
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from photo_tagger.core.changes import Changes
from photo_tagger.gui.tag_rows import NameLabel, SuggestionRow


def test_the_badge_counts_exactly_the_suggestions_listed(window) -> None:
    for name in ("cat.jpg", "coffee.jpg", "astronaut.jpg"):
        photo = select(window, name)[0]
        listed = [row for row in window.panel._suggestions.rows if row.summary is not None]
        assert window.model.info(window.model.row_of(photo)).unreviewed == len(listed) > 0


def test_confirming_a_child_confirms_its_ancestors_and_one_undo_takes_them_all_back(window, qtbot) -> None:
    select(window, "coffee.jpg")
    before = tags_of(window, "coffee.jpg")
    assert "coffee" in before["suggested"] and "drink" not in before["confirmed"]
    qtbot.mouseClick(window.panel.findChild(QLabel, "name:coffee").parent().accept, Qt.MouseButton.LeftButton)
    after = tags_of(window, "coffee.jpg")
    assert {"coffee", "drink"} <= after["confirmed"] and "drink" not in after["suggested"]
    assert window.session.undo_stack.count() == 1
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(window)
    assert tags_of(window, "coffee.jpg") == before


def test_a_long_name_is_elided_with_the_full_path_in_its_tooltip(window) -> None:
    long_name = "a very long tag name about the wild animals of the savannah at dusk"
    window.session.confirm_on_all(select(window, "cat.jpg"), long_name)
    settle(window)
    with window.session.catalogue.transaction() as conn:
        conn.execute("UPDATE tags SET parent_id = (SELECT id FROM tags WHERE name = 'animal') WHERE name = ?",
                     (long_name,))
    window.show_changes(Changes.of_everything())  # what the tag manager's changes say
    select(window, "cat.jpg")
    label = window.panel.findChild(NameLabel, f"name:{long_name}")
    assert label is not None and label.isVisible()
    assert label.toolTip() == f"animal \u203a {long_name}"
    shown = "".join(text for text, _ in label.shown_pieces())
    assert "\u2026" in shown and label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert shown.startswith("\u25cf ")


def test_the_parent_path_is_dimmed_and_gives_way_before_the_name(window) -> None:
    select(window, "coffee.jpg")
    row = next(r for r in window.panel._suggestions.rows if r.summary is not None and r.summary.name == "coffee")
    assert isinstance(row, SuggestionRow)
    assert ("coffee", False) in row.name.shown_pieces()
    assert any(dimmed and "\u203a" in text for text, dimmed in row.name.shown_pieces())  # "drink › " dimmed
    assert row.bar.threshold_position() == row.summary.threshold  # the tick on the bar


def test_the_splitter_sizes_survive_reopening_the_window(window, qtbot, settings: QSettings) -> None:
    from photo_tagger.gui.main_window import MainWindow

    total = sum(window.splitter.sizes())
    window.splitter.setSizes([total - 350, 350])
    QApplication.processEvents()
    sizes = window.splitter.sizes()
    window.close()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    again.resize(1200, 800)  # as the window fixture (the offscreen screen is smaller)
    again.show()
    qtbot.waitExposed(again)
    assert again.splitter.sizes() == sizes and sizes[1] == 350  # not the first-run width
    again.close()


def test_the_first_run_panel_is_wide_and_the_grid_fills_its_width(window) -> None:
    assert window.panel.width() >= 380  # 1200 px wide, as in conftest
    cell, viewport = window.grid.gridSize().width(), window.grid.viewport().width()
    assert viewport - cell * (viewport // cell) < cell // 4  # no empty band beside the grid (margins only)


def test_the_preview_follows_when_a_filter_hides_the_selected_photo(window, qtbot) -> None:
    select(window, "astronaut.jpg")
    qtbot.waitUntil(lambda: "astronaut.jpg" in window.preview.caption.text())
    window.filter_bar.search.setText("coffee")
    qtbot.waitUntil(lambda: [window.model.info(r).name for r in range(window.model.rowCount())] == ["coffee.jpg"])
    qtbot.waitUntil(lambda: "coffee.jpg" in window.preview.caption.text())
    assert window.panel.title.text() == "coffee.jpg"


def test_an_open_error_names_the_folder_once(window, tmp_path: Path) -> None:
    assert not window.open_library(tmp_path / "nowhere")
    box = window.findChild(QMessageBox, "errorBox")
    assert box is not None and box.text().count(str(tmp_path / "nowhere")) == 1
    box.close()
