"""The training report as a dialog: the overall figures before and after, a sortable table
of every trained tag, and the button that rolls the training back."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from photo_tagger.core.report import Scores, TagReport, TrainReport

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Tag", "Confirmed", "Rejected", "AP before", "AP after", "F1 before", "F1 after",
           "Precision", "Recall", "Threshold", "Note")
COLUMN_TIPS = {
    "Confirmed": "Photos where you confirmed the tag (positives)",
    "Rejected": "Photos where you rejected the tag, or reviewed without it (negatives)",
    "AP before": "Average precision of the zero-shot suggestions on your photos",
    "AP after": "Average precision of the retrained suggestions, cross-validated on your photos",
    "F1 before": "F1 of the zero-shot suggestions at their threshold",
    "F1 after": "F1 of the retrained suggestions at the new threshold, cross-validated",
    "Precision": "Share of the retrained suggestions that are right (cross-validated)",
    "Recall": "Share of your confirmed photos the retrained suggestions find (cross-validated)",
    "Threshold": "Suggested when the confidence is at least this",
}
NUMERIC = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
# "After" figures that moved by at least this much are coloured: better green, worse red
# (mid tones, readable on the light and the dark palette).
CHANGE = 0.01
BETTER, WORSE = QColor("#2e9d4f"), QColor("#d9534f")
AFTER_OF = {"AP after": "AP before", "F1 after": "F1 before"}


def figure(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.2f}"


class TagReportModel(QAbstractTableModel):
    """One row per tag with at least one confirmed example; sorting uses the numbers."""

    def __init__(self, tags: list[TagReport], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = [_row_values(t) for t in tags if t.n_pos > 0]  # a report never changes

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS.get(COLUMNS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        value = row[COLUMNS[index.column()]]
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, str):
                return value
            return f"{value:,}" if isinstance(value, int) else figure(value)
        if role == Qt.ItemDataRole.UserRole:  # the sort key: numbers as numbers, a dash last
            return value if value is not None else -1.0
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() not in (0, len(COLUMNS) - 1):
            return int(NUMERIC)
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[index.column()] in AFTER_OF:
            before = row[AFTER_OF[COLUMNS[index.column()]]]
            if isinstance(value, float) and isinstance(before, float) and abs(value - before) >= CHANGE:
                return BETTER if value > before else WORSE
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[index.column()] == "Note":
            return value or None
        return None


def _row_values(tag: TagReport) -> dict[str, str | int | float | None]:
    """The tag's value in each column (None: no figure)."""
    before, after = tag.before, tag.after
    return {
        "Tag": tag.name, "Confirmed": tag.n_pos, "Rejected": tag.n_neg,
        "AP before": _get(before, "ap"), "AP after": _get(after, "ap"),
        "F1 before": _get(before, "f1"), "F1 after": _get(after, "f1"),
        "Precision": _get(after, "precision"), "Recall": _get(after, "recall"),
        "Threshold": float(tag.threshold), "Note": tag.note,
    }


def _get(scores: Scores | None, name: str) -> float | None:
    return None if scores is None else getattr(scores, name)


class TrainReportDialog(QDialog):
    """Shown after a retraining by hand and from Tags › Training report."""

    rollback_requested = Signal()
    activate_requested = Signal(int)  # head id: a head the training kept inactive, used anyway

    def __init__(self, report: TrainReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainReport")
        self.setWindowTitle("Training report")
        self.report = report
        layout = QVBoxLayout(self)
        self.summary = QLabel(self._summary_text())
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addLayout(self._overall_grid())
        if report.notes:
            notes = QLabel("\n".join(report.notes))
            notes.setWordWrap(True)
            layout.addWidget(notes)
        self.model = TagReportModel(report.tags, self)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        proxy.setSortRole(Qt.ItemDataRole.UserRole)
        proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView(self)
        self.table.setObjectName("trainReportTable")
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # one line per tag; a long note is elided, whole in its tooltip
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        untrained = sum(1 for t in report.tags if t.n_pos == 0)
        if untrained:
            layout.addWidget(QLabel(f"{untrained:,} more tags have no confirmed example yet: not trained."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        if report.activated:
            self.rollback_button = QPushButton("Roll back this training")
            self.rollback_button.setObjectName("rollbackTraining")
            self.rollback_button.setToolTip("Go back to the suggestions from before this training; "
                                            "your own tags are not touched")
            buttons.addButton(self.rollback_button, QDialogButtonBox.ButtonRole.ResetRole)
            self.rollback_button.clicked.connect(self._roll_back)
        else:
            self.activate_button = QPushButton("Use it anyway")
            self.activate_button.setObjectName("activateTraining")
            self.activate_button.setToolTip("Replace the suggestions in use with this training's, although it"
                                            " scored lower on your photos")
            buttons.addButton(self.activate_button, QDialogButtonBox.ButtonRole.AcceptRole)
            self.activate_button.clicked.connect(self._activate)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1080, 620)

    def _summary_text(self) -> str:
        r = self.report
        policy = ("thresholds chosen for the best F1" if r.target_precision is None
                  else f"thresholds chosen to keep precision at {r.target_precision:.0%} or better")
        text = (f"Retrained on {r.photos:,} photos ({r.labels:,} known tag labels) in {r.seconds:.1f} s, "
                f"{policy}. The figures are {r.cv_folds}-fold cross-validated on your own photos: "
                "each photo is scored by a version that never saw it.")
        if not r.activated:
            text = ("<b>Not in use:</b> this training scored lower on your photos than the suggestions in use, "
                    "so they stay as they were. Use it anyway?<br>" + text)
        return text

    def _overall_grid(self) -> QGridLayout:
        grid = QGridLayout()
        for column, text in enumerate(("", "Before (starting model)", "After (retrained)"), start=0):
            label = QLabel(f"<b>{text}</b>")
            if column:
                label.setAlignment(NUMERIC)
            grid.addWidget(label, 0, column)
        rows = (("Mean average precision (higher is better)", "map"), ("Macro F1 (higher is better)", "macro_f1"),
                ("Hamming loss (lower is better)", "hamming_loss"))
        for row, (text, name) in enumerate(rows, start=1):
            grid.addWidget(QLabel(text), row, 0)
            for column, overall in enumerate((self.report.before, self.report.after), start=1):
                value = QLabel(figure(getattr(overall, name)))
                value.setObjectName(f"{name}_{'before' if column == 1 else 'after'}")
                value.setAlignment(NUMERIC)
                grid.addWidget(value, row, column)
        grid.setColumnStretch(0, 1)
        return grid

    def _activate(self) -> None:
        if self.report.head_id is not None:
            self.activate_requested.emit(self.report.head_id)
        self.accept()

    def _roll_back(self) -> None:
        self.rollback_requested.emit()
        self.accept()
