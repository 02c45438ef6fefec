"""Where the app tells the user something: a passing message in the status bar; an error
in the tag panel's message line, or in a box that does not block when the panel is not
there or the error needs a box; and the dialogs it opens, which give the keyboard back to
the grid when closed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMainWindow, QMessageBox, QWidget

from photo_tagger.gui.tag_panel import TagPanel


class Notifier:
    def __init__(self, window: QMainWindow, panel: TagPanel, focus_after_dialogs: QWidget) -> None:
        self._window, self._panel, self._focus = window, panel, focus_after_dialogs

    def status(self, message: str, timeout_ms: int) -> None:
        self._window.statusBar().showMessage(message, timeout_ms)

    def error(self, message: str, modal_box: bool = False) -> None:
        """A user error (never a traceback)."""
        self.status(message, 8000)
        if modal_box or not self._panel.isVisible():
            box = QMessageBox(QMessageBox.Icon.Warning, "photo-tagger", message, QMessageBox.StandardButton.Ok,
                              self._window)
            box.setObjectName("errorBox")
            self.open_dialog(box)
        else:
            self._panel.show_message(message)

    def open_dialog(self, dialog: QDialog) -> None:
        """Open `dialog` (deleted when closed)."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._focus.setFocus(Qt.FocusReason.OtherFocusReason))
        dialog.open()

    @property
    def parent(self) -> QWidget:
        """For the dialogs the caller makes."""
        return self._window
