"""The tag panel: the selection's suggestions (with confidence), confirmed and rejected
tags, and an add-tag field. It shows a `SelectionTags` and emits what the user asked for;
the main window dispatches that to the session."""

from __future__ import annotations

from PySide6.QtCore import QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photo_tagger.core.browse import SelectionTags, TagSummary

HIGH = QColor("#2f9e5b")
LOW = QColor("#d08a1c")


class ConfidenceBar(QWidget):
    """A small bar and the percentage; green at or above the tag's threshold, amber below."""

    def __init__(self, score: float, threshold: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score, self.threshold = score, threshold
        self.setToolTip(f"confidence {score:.0%} (threshold {threshold:.0%})")

    def sizeHint(self) -> QSize:
        return QSize(104, 18)

    def paintEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_w = self.fontMetrics().horizontalAdvance("100%") + 6
        bar = self.rect().adjusted(0, 5, -text_w, -5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(bar, 3, 3)
        filled = bar.adjusted(0, 0, -round(bar.width() * (1 - min(max(self.score, 0.0), 1.0))), 0)
        painter.setBrush(HIGH if self.score >= self.threshold else LOW)
        painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        text_rect = self.rect().adjusted(self.width() - text_w, 0, 0, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{self.score:.0%}")


def _button(text: str, tip: str, name: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setObjectName(name)
    button.setAutoRaise(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFixedSize(26, 24)
    return button


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
        self.add_field = QLineEdit()
        self.add_field.setObjectName("addTag")
        self.add_field.setPlaceholderText("Add a tag\u2026  (T)")
        self.add_field.setClearButtonEnabled(True)
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_field.setCompleter(completer)
        self.add_field.returnPressed.connect(self._on_add)
        self.message = QLabel()
        self.message.setObjectName("panelMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        self._body = QWidget()
        self._rows = QVBoxLayout(self._body)
        self._rows.setContentsMargins(0, 0, 4, 0)
        self._rows.setSpacing(2)
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
        self._names.setStringList(names)

    def set_tag_paths(self, paths: dict[str, list[str]]) -> None:
        """Tags with a parent show their path (`Animals › Cat`) and it as a tooltip."""
        if paths != self.paths:
            self.paths = paths
            tags, self.tags = self.tags, None  # re-draw the rows with the new paths
            self.show_tags(self.title.text(), tags)

    def display_name(self, name: str) -> str:
        return " \u203a ".join(self.paths.get(name) or [name])

    def focus_add_field(self) -> None:
        self.add_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.add_field.selectAll()

    def _on_add(self) -> None:
        text = self.add_field.text()
        self.add_field.clear()
        self.add_requested.emit(text)

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
        while self._rows.count():
            item = self._rows.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        if tags is None:
            self._rows.addStretch(1)
            return
        self._rows.addWidget(_section("Suggested"))
        if not tags.candidates:
            self._rows.addWidget(self._hint("No suggestions waiting."))
        for number, summary in enumerate(tags.candidates, start=1):
            self._rows.addWidget(self._suggestion_row(number, summary, tags.selected))
        self._rows.addWidget(_section("Tags"))
        if not tags.confirmed:
            self._rows.addWidget(self._hint("None yet: accept a suggestion or add a tag."))
        for summary in tags.confirmed:
            self._rows.addWidget(self._confirmed_row(summary))
        if tags.rejected:
            self._rows.addWidget(_section("Rejected"))
            for summary in tags.rejected:
                self._rows.addWidget(self._rejected_row(summary))
        self._rows.addStretch(1)

    @staticmethod
    def _hint(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        return label

    @staticmethod
    def _row(*widgets: QWidget, stretch_at: int = 1) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for i, widget in enumerate(widgets):
            layout.addWidget(widget, 1 if i == stretch_at else 0)
        return row

    def _suggestion_row(self, number: int, summary: TagSummary, selected: int) -> QWidget:
        key = QLabel(str(number) if number <= 9 else "")
        key.setFixedWidth(14)
        key.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        count = summary.suggested or summary.maybe
        shown = self.display_name(summary.name)
        name = QLabel(shown if selected == 1 else f"{shown}  ({count} of {selected})")
        name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        name.setObjectName(f"name:{summary.name}")
        name.setToolTip(shown)
        if not summary.suggested:
            name.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        accept = _button("\u2713", f"Accept '{summary.name}'" + (f"  ({number})" if number <= 9 else ""),
                         f"accept:{summary.name}")
        accept.clicked.connect(lambda: self.accept_requested.emit(summary))
        reject = _button("\u2715", f"Reject '{summary.name}'  (R rejects the first)", f"reject:{summary.name}")
        reject.clicked.connect(lambda: self.reject_requested.emit(summary))
        return self._row(key, name, ConfidenceBar(summary.score, summary.threshold), accept, reject)

    def _confirmed_row(self, summary: TagSummary) -> QWidget:
        shown = self.display_name(summary.name)
        text = shown if not summary.partial else f"{shown}  ({summary.confirmed} of {summary.selected})"
        name = QLabel(f"\u25cf {text}")
        name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        name.setObjectName(f"name:{summary.name}")
        name.setToolTip(shown)
        widgets: list[QWidget] = [name]
        if summary.partial:
            fill = _button("+", f"Add '{summary.name}' to all {summary.selected} selected photos",
                           f"addall:{summary.name}")
            fill.clicked.connect(lambda: self.add_requested.emit(summary.name))
            widgets.append(fill)
        remove = _button("\u2715", f"Remove '{summary.name}'", f"remove:{summary.name}")
        remove.clicked.connect(lambda: self.remove_requested.emit(summary))
        widgets.append(remove)
        return self._row(*widgets, stretch_at=0)

    def _rejected_row(self, summary: TagSummary) -> QWidget:
        shown = self.display_name(summary.name)
        name = QLabel(shown if summary.rejected == summary.selected
                      else f"{shown}  ({summary.rejected} of {summary.selected})")
        name.setObjectName(f"name:{summary.name}")
        name.setToolTip(shown)
        font = name.font()
        font.setStrikeOut(True)
        name.setFont(font)
        name.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        restore = _button("\u21ba", f"Un-reject '{summary.name}'", f"unreject:{summary.name}")
        restore.clicked.connect(lambda: self.unreject_requested.emit(summary))
        return self._row(name, restore, stretch_at=0)
