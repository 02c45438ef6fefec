"""The tag panel: the selection's suggestions (with confidence), confirmed and rejected
tags, and an add-tag field. It shows a `SelectionTags` and emits what the user asked for;
the main window dispatches that to the session. The rows are `tag_rows`, made once and
refilled as the selection moves."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from photo_tagger.core.browse import SelectionTags
from photo_tagger.gui.add_tag_field import AddTagField
from photo_tagger.gui.tag_rows import ConfirmedRow, RejectedRow, RowList, SuggestionRow


def _section(title: str) -> QLabel:
    label = QLabel(title.upper())
    label.setObjectName("sectionTitle")
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
    label.setFont(font)
    label.setContentsMargins(0, 10, 0, 2)
    return label


class TagPanel(QWidget):
    accept_requested = Signal(object)  # TagSummary
    reject_requested = Signal(object)
    remove_requested = Signal(object)
    unreject_requested = Signal(object)
    add_requested = Signal(str)  # a tag name to put on every selected photo
    done_editing = Signal()  # the add-tag field is done: the keyboard goes back to the grid

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tags: SelectionTags | None = None
        self.paths: dict[str, list[str]] = {}  # tag name -> its parent chain, root first
        self.title = QLabel("No photo selected")
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 1)
        self.title.setFont(font)
        self.add_field = AddTagField()
        self.add_field.submitted.connect(self.add_requested.emit)
        self.add_field.left.connect(self.done_editing.emit)
        self.message = QLabel()
        self.message.setObjectName("panelMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        self._body = QWidget()
        self._rows = QVBoxLayout(self._body)
        self._rows.setContentsMargins(0, 0, 4, 0)
        self._rows.setSpacing(2)
        self._suggested_title = _section("Suggested")
        self._no_suggestions = self._hint("No suggestions waiting.")
        self._suggestions = RowList(lambda: SuggestionRow(self.accept_requested.emit, self.reject_requested.emit))
        self._tags_title = _section("Tags")
        self._no_tags = self._hint("None yet: accept a suggestion or add a tag.")
        self._confirmed = RowList(lambda: ConfirmedRow(self.add_requested.emit, self.remove_requested.emit))
        self._rejected_title = _section("Rejected")
        self._rejected = RowList(lambda: RejectedRow(self.unreject_requested.emit))
        for widget in (self._suggested_title, self._no_suggestions, self._suggestions, self._tags_title,
                       self._no_tags, self._confirmed, self._rejected_title, self._rejected):
            self._rows.addWidget(widget)
        self._rows.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.add_field)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)
        self.setMinimumWidth(260)
        self.show_tags("No photo selected", None)

    def set_tag_names(self, names: list[str]) -> None:
        if names != self.add_field.names.stringList():  # unchanged: keep an open completion as it is
            self.add_field.names.setStringList(names)

    def set_tag_paths(self, paths: dict[str, list[str]]) -> None:
        """Tags with a parent show their path (`Animals › Cat`) and it as a tooltip."""
        if paths != self.paths:
            self.paths = paths
            tags, self.tags = self.tags, None  # re-draw the rows with the new paths
            self.show_tags(self.title.text(), tags)

    def path(self, name: str) -> list[str]:
        """The tag's parent chain and itself, root first."""
        return self.paths.get(name) or [name]

    def focus_add_field(self) -> None:
        self.add_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.add_field.selectAll()

    def show_message(self, text: str) -> None:
        """A refused change, said next to where it was asked for; cleared by the next update."""
        self.message.setText(text)
        self.message.show()

    def show_tags(self, title: str, tags: SelectionTags | None) -> None:
        self.message.hide()
        if tags is not None and tags == self.tags and title == self.title.text():
            return  # nothing new (a refresh while indexing): keep the widgets, skip the flicker
        self.title.setText(title)
        self.tags = tags
        self.add_field.setEnabled(tags is not None)
        shown = tags is not None
        candidates = tags.candidates if tags is not None else []
        confirmed = tags.confirmed if tags is not None else []
        rejected = tags.rejected if tags is not None else []
        selected = tags.selected if tags is not None else 0
        for number, (row, summary) in enumerate(zip(self._suggestions.take(len(candidates)), candidates,
                                                    strict=True), start=1):
            row.show_summary(number, summary, selected, self.path(summary.name))  # type: ignore[attr-defined]
        for row, summary in zip(self._confirmed.take(len(confirmed)), confirmed, strict=True):
            row.show_summary(summary, self.path(summary.name))  # type: ignore[attr-defined]
        for row, summary in zip(self._rejected.take(len(rejected)), rejected, strict=True):
            row.show_summary(summary, self.path(summary.name))  # type: ignore[attr-defined]
        self._suggested_title.setVisible(shown)
        self._no_suggestions.setVisible(shown and not candidates)
        self._tags_title.setVisible(shown)
        self._no_tags.setVisible(shown and not confirmed)
        self._rejected_title.setVisible(bool(rejected))

    @staticmethod
    def _hint(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        return label
