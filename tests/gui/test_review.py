"""Reviewing tags in the app: suggestions shown, accepted, rejected and added with keys
and clicks, bulk edits, undo/redo, and everything still there after a restart."""

from __future__ import annotations

from pathlib import Path

from gui.helpers import select, tags_of
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QToolButton

from photo_tagger.gui.grid_model import InfoRole


def test_opening_a_library_shows_every_photo_and_its_suggestions(window, qtmodeltester) -> None:
    names = [window.model.info(r).name for r in range(window.model.rowCount())]
    assert names == ["broken.jpg", "cat.jpg", "coffee.jpg", "abstract.png", "astronaut.jpg"]
    qtmodeltester.check(window.model)
    select(window, "cat.jpg")
    assert {"cat", "pet", "animal"} <= {t.name for t in window.panel.tags.suggested}
    assert window.panel.title.text() == "cat.jpg"
    assert window.model.info(window.model.row_of(select(window, "cat.jpg")[0])).unreviewed >= 3


def test_a_broken_photo_shows_its_error_on_hover(window) -> None:
    row = next(r for r in range(window.model.rowCount()) if window.model.info(r).name == "broken.jpg")
    tooltip = window.model.data(window.model.index(row), Qt.ItemDataRole.ToolTipRole)
    assert "Cannot show this photo: corrupt or truncated image" in tooltip
    assert window.model.data(window.model.index(row), InfoRole).status == "error"


def test_thumbnails_arrive_from_the_background(window, qtbot) -> None:
    cat_id = select(window, "cat.jpg")[0]
    window.thumbs.pixmap(cat_id)
    qtbot.waitUntil(lambda: window.thumbs.pixmap(cat_id) is not None, timeout=5000)
    assert window.thumbs.pixmap(cat_id).width() > 100


def test_keys_accept_reject_and_add_and_every_change_survives_a_restart(
    window, qtbot, settings, library_path: Path
) -> None:
    select(window, "cat.jpg")
    window.grid.setFocus()
    first = window.panel.tags.candidates[0].name
    second = window.panel.tags.candidates[1].name
    qtbot.keyClick(window.grid, Qt.Key.Key_2)  # accept the second suggestion
    qtbot.keyClick(window.grid, Qt.Key.Key_R)  # reject the (now) first suggestion
    qtbot.keyClick(window.grid, Qt.Key.Key_T)  # the add-tag field
    assert window.panel.add_field.hasFocus()
    qtbot.keyClicks(window.panel.add_field, "Mittens")
    qtbot.keyClick(window.panel.add_field, Qt.Key.Key_Return)
    cat = tags_of(window, "cat.jpg")
    assert cat["confirmed"] == {second, "Mittens"}
    assert first in cat["rejected"]
    select(window, "coffee.jpg")
    window.grid.setFocus()
    shown = {t.name for t in window.panel.tags.suggested}
    assert {"coffee", "drink"} <= shown
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # accept all
    coffee = tags_of(window, "coffee.jpg")
    assert shown <= coffee["confirmed"]
    window.close()

    from photo_tagger.gui.main_window import MainWindow

    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.recent_folders.paths()[0] == str(library_path.resolve())
    assert again.open_library(library_path)
    assert tags_of(again, "cat.jpg")["confirmed"] == {second, "Mittens"}
    assert first in tags_of(again, "cat.jpg")["rejected"]
    assert shown <= tags_of(again, "coffee.jpg")["confirmed"]
    again.close()


def test_clicking_accept_reject_remove_in_the_panel(window, qtbot) -> None:
    select(window, "coffee.jpg")
    other = next(t.name for t in window.panel.tags.suggested if t.name not in ("coffee", "drink"))  # a bowl, a cup
    qtbot.mouseClick(window.panel.findChild(QToolButton, "accept:coffee"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.panel.findChild(QToolButton, f"reject:{other}"), Qt.MouseButton.LeftButton)
    assert tags_of(window, "coffee.jpg")["confirmed"] == {"coffee", "drink"}  # coffee is a drink
    assert other in tags_of(window, "coffee.jpg")["rejected"]
    qtbot.mouseClick(window.panel.findChild(QToolButton, f"unreject:{other}"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.panel.findChild(QToolButton, "remove:coffee"), Qt.MouseButton.LeftButton)
    coffee = tags_of(window, "coffee.jpg")
    assert coffee["confirmed"] == {"drink"} and coffee["rejected"] == set()  # still a drink
    assert {"coffee", other} <= coffee["suggested"]  # back to plain suggestions


def test_bulk_edit_shows_partial_state_and_undo_redo_cover_it(window, qtbot) -> None:
    select(window, "cat.jpg")
    window.session.confirm_on_all(window.target_ids(), "favourite")
    select(window, "cat.jpg", "coffee.jpg", "astronaut.jpg")
    favourite = next(t for t in window.panel.tags.confirmed if t.name == "favourite")
    assert favourite.partial and (favourite.confirmed, favourite.selected) == (1, 3)
    assert window.panel.title.text() == "3 photos selected"
    qtbot.mouseClick(window.panel.findChild(QToolButton, "addall:favourite"), Qt.MouseButton.LeftButton)
    for name in ("cat.jpg", "coffee.jpg", "astronaut.jpg"):
        assert "favourite" in tags_of(window, name)["confirmed"]
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "favourite" not in tags_of(window, "coffee.jpg")["confirmed"]
    assert "favourite" in tags_of(window, "cat.jpg")["confirmed"]
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "favourite" in tags_of(window, "astronaut.jpg")["confirmed"]


def test_accept_all_on_a_selection_and_its_undo(window, qtbot) -> None:
    select(window, "cat.jpg", "coffee.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_A)
    assert {"cat", "pet"} <= tags_of(window, "cat.jpg")["confirmed"]
    assert "coffee" in tags_of(window, "coffee.jpg")["confirmed"]
    window.session.undo_stack.undo()
    assert tags_of(window, "cat.jpg")["confirmed"] == set()
    assert tags_of(window, "coffee.jpg")["confirmed"] == set()


def test_bad_tag_names_are_refused_with_a_message_not_a_traceback(window, qtbot) -> None:
    select(window, "cat.jpg")
    before = window.session.catalogue.scalar("SELECT count(*) FROM tags")
    for bad, words in (("   ", "empty"), ("a;b", "';'"), ("x" * 101, "limit"), ("tab\there", "control")):
        window.panel.add_field.setText(bad)
        qtbot.keyClick(window.panel.add_field, Qt.Key.Key_Return)
        assert window.panel.message.isVisible()
        assert words in window.panel.message.text()
    assert window.session.catalogue.scalar("SELECT count(*) FROM tags") == before
    assert window.session.undo_stack.count() == 0
    assert not [w for w in window.findChildren(QMessageBox) if w.isVisible()]
