"""The keyboard shortcut sheet (Help > Keyboard shortcuts)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

SHORTCUTS = [
    ("Arrow keys", "Move through the photos (Shift extends the selection)"),
    ("Space or double-click", "View the photo fitted to the window (arrows: next, Space/Esc: back)"),
    ("Enter or A", "Accept all suggestions of the selected photo(s)"),
    ("1 \u2013 9", "Accept the Nth suggestion in the tag panel"),
    ("R", "Reject the first suggestion"),
    ("T", "Add a tag (type, Enter; a new name creates the tag)"),
    ("Ctrl+A", "Select all photos in the grid (bulk edit)"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo any tag change, bulk edits too"),
    ("Ctrl+F", "Search"),
    ("Ctrl+O", "Open a folder"),
    ("Ctrl+E", "Export tags as CSV"),
    ("Ctrl+Shift+T", "Tag manager"),
    ("F5", "Refresh the grid"),
    ("F1", "This sheet"),
]


class ShortcutSheet(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = "".join(
            f"<tr><td style='padding:3px 18px 3px 0'><b>{keys}</b></td><td style='padding:3px 0'>{what}</td></tr>"
            for keys, what in SHORTCUTS
        )
        label = QLabel(f"<table>{rows}</table>")
        label.setObjectName("shortcutSheet")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 12)
        layout.addWidget(label)
        layout.addWidget(buttons)
