"""The tag panel's add-tag field (T): a place to type one name and leave, never a trap.

Enter or choosing a completion adds the tag, empties the field and hands the keyboard
back (`left`); Escape empties it and leaves. Ctrl+Z and Ctrl+Shift+Z edit the text only
while there is text to edit: in an empty field they reach the window's undo of tag edits."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

_UNDO_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


class AddTagField(QLineEdit):
    submitted = Signal(str)  # a name to add
    left = Signal()  # done here: the keyboard goes back to the photos

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("addTag")
        self.setPlaceholderText("Add a tag\u2026  (T)")
        self.setClearButtonEnabled(True)
        self.names = QStringListModel(self)
        completer = QCompleter(self.names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        # After the field's own handler has put the completion in the text: then it is added.
        completer.activated.connect(self._completed, Qt.ConnectionType.QueuedConnection)
        self.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        text = self.text()
        self.clear()
        if text:  # blanks too: the session says why a name is refused
            self.submitted.emit(text)
        self.left.emit()

    def _completed(self, name: str) -> None:
        # Enter in the popup also reaches the field as a Return (Qt forwards it), which
        # may have added the name already: the field is empty then, and nothing is left to do.
        if self.text().strip() == name.strip():
            self._submit()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if not self.text() and any(event.matches(key) for key in _UNDO_KEYS):
                event.ignore()  # let the window's undo action have it
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        popup = self.completer().popup() if self.completer() is not None else None
        if event.key() == Qt.Key.Key_Escape and not (popup is not None and popup.isVisible()):
            self.clear()
            self.left.emit()
            event.accept()
            return
        super().keyPressEvent(event)
