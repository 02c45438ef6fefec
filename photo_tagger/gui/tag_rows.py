"""The tag panel's rows: a suggestion (number key, name, confidence, accept, reject), a
confirmed tag (name, add to all, remove) and a rejected tag (name, un-reject).

Rows are made once and refilled: moving the selection shows other tags in the same
widgets instead of deleting a few dozen and creating them again (creating, polishing and
deleting them measured 15-30 ms per selection change on the shared VM). A row's buttons
act on whatever summary it shows now; a row not in use is hidden and loses its object
names, so `findChild` finds only what is on screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from photo_tagger.core.browse import TagSummary

HIGH = QColor("#2f9e5b")
LOW = QColor("#d08a1c")
Emit = Callable[[TagSummary], None]


class ConfidenceBar(QWidget):
    """A small bar and the percentage; green at or above the tag's threshold, amber below,
    and a tick where the threshold lies (so 54 % below one tag's tick and 32 % above
    another's read at a glance)."""

    def __init__(self, score: float = 0.0, threshold: float = 0.5, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_score(score, threshold)

    def set_score(self, score: float, threshold: float) -> None:
        self.score, self.threshold = score, threshold
        verdict = "suggested" if score >= threshold else "not suggested"
        self.setToolTip(f"confidence {score:.0%}: {verdict} (this tag is suggested from {threshold:.0%}, the tick)")
        self.update()

    def threshold_position(self) -> float:
        """Where the tick is, as a fraction of the bar's length."""
        return min(max(self.threshold, 0.0), 1.0)

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
        painter.setBrush(self.palette().color(QPalette.ColorRole.Text))
        tick = bar.left() + round(bar.width() * self.threshold_position())
        painter.drawRect(tick - 1, bar.top() - 3, 2, bar.height() + 6)
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


PATH_SEPARATOR = " \u203a "  # how a tag path is shown: Animals › Cat


def elide_parts(metrics: QFontMetrics, width: int, lead: str, parents: str, name: str,
                tail: str) -> list[tuple[str, bool]]:
    """What fits in `width` px as (text, dimmed) pieces. The parent path gives way first
    (elided on the left, keeping the nearest parent), then the name (elided in the middle,
    so names that share a start still differ); the lead and the tail (a count) stay whole."""
    advance = metrics.horizontalAdvance
    fixed = advance(lead) + advance(tail)
    if fixed + advance(parents) + advance(name) > width:
        room = width - fixed - advance(name)
        parents = metrics.elidedText(parents, Qt.TextElideMode.ElideLeft, room) if parents and room > 0 else ""
        if not parents:
            name = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, max(0, width - fixed))
    pieces = [(lead, False), (parents, True), (name, False), (tail, False)]
    return [(text, dimmed) for text, dimmed in pieces if text]


class NameLabel(QLabel):
    """A tag's name after its parent path in the placeholder colour, elided to fit, with the
    full path in the tooltip. `text()` stays the whole plain text."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._parts = ("", "", "", "")

    def show_path(self, path: list[str], lead: str = "", tail: str = "") -> None:
        parents = "".join(part + PATH_SEPARATOR for part in path[:-1])
        self._parts = (lead, parents, path[-1], tail)
        self.setText(lead + parents + path[-1] + tail)
        self.setToolTip(PATH_SEPARATOR.join(path) + tail)
        self.update()

    def shown_pieces(self) -> list[tuple[str, bool]]:
        """What is painted now: (text, dimmed) pieces."""
        return elide_parts(self.fontMetrics(), self.contentsRect().width(), *self._parts)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        normal = self.palette().color(self.foregroundRole())
        dim = self.palette().color(QPalette.ColorRole.PlaceholderText)
        x = rect.left()
        for text, dimmed in self.shown_pieces():
            width = self.fontMetrics().horizontalAdvance(text)
            painter.setPen(dim if dimmed else normal)
            painter.drawText(QRect(x, rect.top(), width + 1, rect.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            x += width


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

    @staticmethod
    def _name(label: NameLabel, path: list[str], name: str, lead: str = "", tail: str = "") -> None:
        label.show_path(path, lead, tail)
        label.setObjectName(f"name:{name}")


class SuggestionRow(TagRow):
    def __init__(self, accept: Emit, reject: Emit) -> None:
        self.key = QLabel()
        self.key.setFixedWidth(14)
        self.key.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.name = NameLabel()
        self.bar = ConfidenceBar()
        self.accept = tool_button("\u2713")
        self.reject = tool_button("\u2715")
        super().__init__(self.key, self.name, self.bar, self.accept, self.reject, stretch_at=1)
        self._connect(self.accept, accept)
        self._connect(self.reject, reject)

    def show_summary(self, number: int, summary: TagSummary, selected: int, path: list[str]) -> None:
        self.summary = summary
        self.key.setText(str(number) if number <= 9 else "")
        count = summary.suggested or summary.maybe
        self._name(self.name, path, summary.name, tail="" if selected == 1 else f"  ({count} of {selected})")
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
        self.name = NameLabel()
        self.fill = tool_button("+")
        self.remove = tool_button("\u2715")
        super().__init__(self.name, self.fill, self.remove, stretch_at=0)
        self.fill.clicked.connect(lambda: self.summary is not None and add_to_all(self.summary.name))
        self._connect(self.remove, remove)

    def show_summary(self, summary: TagSummary, path: list[str]) -> None:
        self.summary = summary
        tail = f"  ({summary.confirmed} of {summary.selected})" if summary.partial else ""
        self._name(self.name, path, summary.name, "\u25cf ", tail)
        self.fill.setVisible(summary.partial)
        self.fill.setToolTip(f"Add '{summary.name}' to all {summary.selected} selected photos")
        self.fill.setObjectName(f"addall:{summary.name}" if summary.partial else "")
        self.remove.setToolTip(f"Remove '{summary.name}'")
        self.remove.setObjectName(f"remove:{summary.name}")
        self.show()


class RejectedRow(TagRow):
    def __init__(self, unreject: Emit) -> None:
        self.name = NameLabel()
        font = self.name.font()
        font.setStrikeOut(True)
        self.name.setFont(font)
        self.name.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.restore = tool_button("\u21ba")
        super().__init__(self.name, self.restore, stretch_at=0)
        self._connect(self.restore, unreject)

    def show_summary(self, summary: TagSummary, path: list[str]) -> None:
        self.summary = summary
        tail = "" if summary.rejected == summary.selected else f"  ({summary.rejected} of {summary.selected})"
        self._name(self.name, path, summary.name, tail=tail)
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
