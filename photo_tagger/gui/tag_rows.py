"""The tag panel's rows: a suggestion (number key, name, confidence, accept, reject), a
confirmed tag (name, add to all, remove) and a rejected tag (name, un-reject).

Rows are made once and refilled: moving the selection shows other tags in the same
widgets instead of deleting a few dozen and creating them again (creating, polishing and
deleting them measured 15-30 ms per selection change on the shared VM). A row's buttons
act on whatever summary it shows now; a row not in use is hidden and loses its object
names, so `findChild` finds only what is on screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from photo_tagger.core.browse import TagSummary

HIGH = QColor("#2f9e5b")
LOW = QColor("#d08a1c")
Emit = Callable[[TagSummary], None]


class ConfidenceBar(QWidget):
    """A small bar and the percentage; green at or above the tag's threshold, amber below."""

    def __init__(self, score: float = 0.0, threshold: float = 0.5, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_score(score, threshold)

    def set_score(self, score: float, threshold: float) -> None:
        self.score, self.threshold = score, threshold
        self.setToolTip(f"confidence {score:.0%} (threshold {threshold:.0%})")
        self.update()

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


def tool_button(text: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setAutoRaise(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFixedSize(26, 24)
    return button


def name_label() -> QLabel:
    label = QLabel()
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class TagRow(QWidget):
    """One line of the panel; `summary` is what its buttons act on."""

    def __init__(self, *widgets: QWidget, stretch_at: int) -> None:
        super().__init__()
        self.summary: TagSummary | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for i, widget in enumerate(widgets):
            layout.addWidget(widget, 1 if i == stretch_at else 0)

    def _connect(self, button: QToolButton, emit: Emit) -> None:
        button.clicked.connect(lambda: self.summary is not None and emit(self.summary))

    def clear(self) -> None:
        """Not in use: hidden, and no object names for `findChild` to find."""
        self.summary = None
        for child in self.findChildren(QWidget):
            child.setObjectName("")
        self.hide()

    def _name(self, label: QLabel, shown: str, text: str, name: str) -> None:
        label.setText(text)
        label.setObjectName(f"name:{name}")
        label.setToolTip(shown)


class SuggestionRow(TagRow):
    def __init__(self, accept: Emit, reject: Emit) -> None:
        self.key = QLabel()
        self.key.setFixedWidth(14)
        self.key.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.name = name_label()
        self.bar = ConfidenceBar()
        self.accept = tool_button("\u2713")
        self.reject = tool_button("\u2715")
        super().__init__(self.key, self.name, self.bar, self.accept, self.reject, stretch_at=1)
        self._connect(self.accept, accept)
        self._connect(self.reject, reject)

    def show_summary(self, number: int, summary: TagSummary, selected: int, shown: str) -> None:
        self.summary = summary
        self.key.setText(str(number) if number <= 9 else "")
        count = summary.suggested or summary.maybe
        self._name(self.name, shown, shown if selected == 1 else f"{shown}  ({count} of {selected})", summary.name)
        self.name.setForegroundRole(QPalette.ColorRole.WindowText if summary.suggested
                                    else QPalette.ColorRole.PlaceholderText)
        self.bar.set_score(summary.score, summary.threshold)
        self.accept.setToolTip(f"Accept '{summary.name}'" + (f"  ({number})" if number <= 9 else ""))
        self.accept.setObjectName(f"accept:{summary.name}")
        self.reject.setToolTip(f"Reject '{summary.name}'  (R rejects the first)")
        self.reject.setObjectName(f"reject:{summary.name}")
        self.show()


class ConfirmedRow(TagRow):
    def __init__(self, add_to_all: Callable[[str], None], remove: Emit) -> None:
        self.name = name_label()
        self.fill = tool_button("+")
        self.remove = tool_button("\u2715")
        super().__init__(self.name, self.fill, self.remove, stretch_at=0)
        self.fill.clicked.connect(lambda: self.summary is not None and add_to_all(self.summary.name))
        self._connect(self.remove, remove)

    def show_summary(self, summary: TagSummary, shown: str) -> None:
        self.summary = summary
        text = shown if not summary.partial else f"{shown}  ({summary.confirmed} of {summary.selected})"
        self._name(self.name, shown, f"\u25cf {text}", summary.name)
        self.fill.setVisible(summary.partial)
        self.fill.setToolTip(f"Add '{summary.name}' to all {summary.selected} selected photos")
        self.fill.setObjectName(f"addall:{summary.name}" if summary.partial else "")
        self.remove.setToolTip(f"Remove '{summary.name}'")
        self.remove.setObjectName(f"remove:{summary.name}")
        self.show()


class RejectedRow(TagRow):
    def __init__(self, unreject: Emit) -> None:
        self.name = name_label()
        font = self.name.font()
        font.setStrikeOut(True)
        self.name.setFont(font)
        self.name.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.restore = tool_button("\u21ba")
        super().__init__(self.name, self.restore, stretch_at=0)
        self._connect(self.restore, unreject)

    def show_summary(self, summary: TagSummary, shown: str) -> None:
        self.summary = summary
        text = shown if summary.rejected == summary.selected else f"{shown}  ({summary.rejected} of {summary.selected})"
        self._name(self.name, shown, text, summary.name)
        self.restore.setToolTip(f"Un-reject '{summary.name}'")
        self.restore.setObjectName(f"unreject:{summary.name}")
        self.show()


class RowList(QWidget):
    """A column of rows of one kind, grown on demand and never shrunk (hidden instead)."""

    def __init__(self, make: Callable[[], TagRow]) -> None:
        super().__init__()
        self._make = make
        self.rows: list[TagRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)

    def take(self, count: int) -> list[TagRow]:
        """The first `count` rows (made if need be); the rest are cleared and hidden."""
        while len(self.rows) < count:
            row = self._make()
            self.rows.append(row)
            self._layout.addWidget(row)
        for row in self.rows[count:]:
            if row.summary is not None or not row.isHidden():
                row.clear()
        self.setVisible(count > 0)
        return self.rows[:count]
