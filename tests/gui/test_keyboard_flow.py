"""The keyboard never gets trapped: the add-tag field hands the keys back, dialogs give the
grid its focus again, and the grid's type-ahead search leaves the shortcut keys alone."""

from __future__ import annotations

from gui.helpers import select, settle, tags_of
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from photo_tagger.gui.train_report_dialog import TrainReportDialog


def _focus_on_grid(window, qtbot) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.grid, timeout=3000)


def test_enter_adds_the_tag_and_gives_the_keys_back_to_the_grid(window, qtbot) -> None:
    select(window, "cat.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert window.panel.add_field.hasFocus()
    qtbot.keyClicks(window.panel.add_field, "Mittens")
    qtbot.keyClick(window.panel.add_field, Qt.Key.Key_Return)
    _focus_on_grid(window, qtbot)
    assert window.panel.add_field.text() == ""
    assert "Mittens" in tags_of(window, "cat.jpg")["confirmed"]
    current = window.grid.currentIndex().row()
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)  # the arrows move on at once
    assert window.grid.currentIndex().row() == current + 1


def test_escape_empties_the_field_and_leaves_it(window, qtbot) -> None:
    select(window, "cat.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    qtbot.keyClicks(window.panel.add_field, "half a na")
    qtbot.keyClick(window.panel.add_field, Qt.Key.Key_Escape)
    _focus_on_grid(window, qtbot)
    assert window.panel.add_field.text() == ""
    assert window.session.undo_stack.count() == 0


def test_ctrl_z_in_the_empty_field_undoes_the_last_tag_edit(window, qtbot) -> None:
    select(window, "cat.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    settle(window)
    assert window.session.undo_stack.count() == 1
    window.panel.focus_add_field()
    qtbot.keyClicks(window.panel.add_field, "ab")
    qtbot.keyClick(window.panel.add_field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.panel.add_field.text() == ""  # with text in it, the field's own undo
    assert window.session.undo_stack.index() == 1
    qtbot.keyClick(window.panel.add_field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(window)
    assert window.session.undo_stack.index() == 0  # empty: the tag edit is undone
    assert tags_of(window, "cat.jpg")["confirmed"] == set()


def test_choosing_a_completion_adds_the_tag_and_leaves_nothing_behind(window, qtbot) -> None:
    window.session.confirm_on_all(select(window, "coffee.jpg"), "giraffe")
    settle(window)
    select(window, "cat.jpg")
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    field = window.panel.add_field
    qtbot.keyClicks(field, "giraf")
    popup = field.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=3000)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    _focus_on_grid(window, qtbot)
    assert field.text() == ""
    assert "giraffe" in tags_of(window, "cat.jpg")["confirmed"]
    assert window.session.undo_stack.count() == 2  # added once


def test_a_tag_made_by_adding_a_new_name_is_offered_at_once(window, qtbot) -> None:
    completions = window.panel.add_field.completer().model()

    def offered() -> set[str]:
        return {completions.index(row, 0).data() for row in range(completions.rowCount())}

    assert "Mittens" not in offered() and "giraffe" in offered()
    window.session.confirm_on_all(select(window, "cat.jpg"), "Mittens")
    settle(window)
    assert "Mittens" in offered()


def test_after_closing_a_dialog_the_grid_has_the_keys(window, qtbot, monkeypatch) -> None:
    select(window, "cat.jpg")
    window.panel.focus_add_field()  # the keys were elsewhere before the dialog
    window.show_shortcuts()
    sheet = qtbot.waitUntil(lambda: _open_dialog(window) is not None, timeout=3000) or _open_dialog(window)
    sheet.reject()
    _focus_on_grid(window, qtbot)
    window.panel.focus_add_field()
    window.open_tag_manager()
    qtbot.waitUntil(lambda: _open_dialog(window) is not None, timeout=3000)
    _open_dialog(window).reject()
    _focus_on_grid(window, qtbot)
    from photo_tagger.core.report import TrainReport

    window.panel.focus_add_field()
    monkeypatch.setattr(TrainReportDialog, "__init__", _plain_dialog_init)  # no report to show here
    window.retraining.open_report(TrainReport.__new__(TrainReport))
    qtbot.waitUntil(lambda: _open_dialog(window) is not None, timeout=3000)
    _open_dialog(window).accept()
    _focus_on_grid(window, qtbot)
    qtbot.keyClick(window.grid, Qt.Key.Key_1)  # and a shortcut works
    settle(window)
    assert window.session.undo_stack.count() == 1


def _plain_dialog_init(self, report, parent) -> None:
    QDialog.__init__(self, parent)


def _open_dialog(window) -> QDialog | None:
    return next((d for d in window.findChildren(QDialog) if d.isVisible() and not isinstance(d, QMessageBox)), None)


def test_shortcut_letters_and_digits_are_not_eaten_by_the_grid_search(window, qtbot) -> None:
    select(window, "cat.jpg")
    window.grid.setFocus()
    row = window.grid.currentIndex().row()
    first = window.panel.tags.candidates[0].name
    qtbot.keyClick(window.grid, Qt.Key.Key_R)
    settle(window)
    assert first in tags_of(window, "cat.jpg")["rejected"]
    assert window.grid.currentIndex().row() == row
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    settle(window)
    assert window.session.undo_stack.count() == 2
    assert window.grid.currentIndex().row() == row
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert window.panel.add_field.hasFocus()
    assert window.grid.currentIndex().row() == row


def test_type_ahead_search_skips_the_shortcut_keys_but_still_finds_names(window) -> None:
    select(window, "broken.jpg")
    for key in "art1":  # "abstract.png" and "astronaut.jpg" would match an "a" search
        window.grid.keyboardSearch(key)
        assert window.model.info(window.grid.currentIndex().row()).name == "broken.jpg"
    window.grid.keyboardSearch("c")
    assert window.model.info(window.grid.currentIndex().row()).name == "cat.jpg"
