"""The tag manager: every tag with its counts; rename, merge, delete (confirmed, undoable)
and the tag's threshold. Changes go through the session, so Ctrl+Z undoes them."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photo_tagger.core.browse import TagRow, tag_table
from photo_tagger.core.changes import Changes
from photo_tagger.core.head import DEFAULT_THRESHOLD
from photo_tagger.core.library import Library
from photo_tagger.core.suggest import MAX_THRESHOLD, SUGGESTION_FLOOR
from photo_tagger.gui.op_runner import Op, OpRunner
from photo_tagger.gui.session import LibrarySession
from photo_tagger.gui.tag_rows import PATH_SEPARATOR
from photo_tagger.gui.thumbnails import thread_catalogue

COLUMNS = ("Tag", "Confirmed", "Suggested", "Rejected", "Threshold")


def path_text(path: Sequence[str]) -> str:
    return PATH_SEPARATOR.join(path)


def path_sort_key(path: Sequence[str]) -> str:
    """Sorts a child right after its parent: \x01 sorts before any character of a name."""
    return "\x01".join(part.casefold() for part in path)
Index = QModelIndex | QPersistentModelIndex


class TagTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.rows: list[TagRow] = []

    def set_rows(self, rows: list[TagRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return path_text(row.path)
            if column == 4:
                return f"{row.threshold:.2f}" if row.threshold is not None else f"auto ({row.model_threshold:.2f})"
            return (row.confirmed, row.suggested, row.rejected)[column - 1]
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return path_text(row.path)
        if role == Qt.ItemDataRole.UserRole:  # for sorting: numbers as numbers, children after their parent
            return (path_sort_key(row.path), row.confirmed, row.suggested, row.rejected,
                    row.threshold if row.threshold is not None else row.model_threshold)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < 5:
            return COLUMNS[section]
        return None


def read_tag_table(library: Library) -> list[TagRow]:
    """The manager's rows, on the pool thread's read connection: counting every tag over a
    large library takes seconds (7.6 s at 100k photos), so never on the GUI thread."""
    return tag_table(thread_catalogue(library))


class TagManager(QDialog):
    """Reads its table through `runner` (after the queued edits are written), again on the
    session's changes and on the runner's (a retraining moves the model's thresholds)."""

    def __init__(self, session: LibrarySession, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.runner = session, runner
        self.reading = False  # a read of the table is on its way; the title says so
        self._latest_read = 0
        self._closed = False
        self.finished.connect(self._close)
        self.setWindowTitle("Tag manager")
        self.resize(640, 520)
        self.model = TagTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit(placeholderText="Filter tags")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.threshold = QDoubleSpinBox(
            decimals=2, minimum=SUGGESTION_FLOOR, maximum=MAX_THRESHOLD, singleStep=0.05, value=DEFAULT_THRESHOLD
        )
        buttons = QHBoxLayout()
        for text, slot in (("Rename\u2026", self.rename), ("Merge into\u2026", self.merge),
                           ("Delete\u2026", self.delete)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Threshold"))
        buttons.addWidget(self.threshold)
        for text, slot in (("Set", self.set_threshold), ("Auto", self.auto_threshold)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        undo = QToolButton()
        undo.setDefaultAction(session.undo_stack.createUndoAction(self, "Undo"))
        bottom = QHBoxLayout()
        bottom.addWidget(undo)
        bottom.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(bottom)
        session.changed.connect(self._changed)
        runner.changed.connect(self._changed)
        session.error.connect(self._show_error)
        self.reload()

    def reload(self) -> None:
        self._latest_read += 1
        read = self._latest_read
        self.reading = True
        self.setWindowTitle("Tag manager (counting\u2026)")
        self.runner.run(Op(read_tag_table, self.session.library)
                        .success(lambda rows: self._show_table(read, rows))
                        .failure(lambda message: None if self._closed else self._show_error(message)))

    def _show_table(self, read: int, rows: list[TagRow]) -> None:
        if self._closed or read != self._latest_read:  # closed, or a newer read is on its way
            return
        self.model.set_rows(rows)
        self.reading = False
        self.setWindowTitle("Tag manager")

    def _close(self) -> None:
        self._closed = True

    def _changed(self, changes: Changes) -> None:
        if changes.head or changes.tags is None or changes.tags:
            self.reload()

    def _show_error(self, message: str) -> None:
        if self.isVisible():
            QMessageBox.warning(self, "Tag manager", message)

    def selected_names(self) -> list[str]:
        rows = {self.proxy.mapToSource(index).row() for index in self.table.selectionModel().selectedRows()}
        return [self.model.rows[row].name for row in sorted(rows)]

    def _one(self) -> str | None:
        names = self.selected_names()
        if len(names) != 1:
            QMessageBox.information(self, "Tag manager", "Select one tag first.")
            return None
        return names[0]

    def rename(self) -> None:
        name = self._one()
        if name is None:
            return
        new, ok = QInputDialog.getText(self, "Rename tag", f"New name for '{name}':", text=name)
        if ok:
            self.session.rename_tag(name, new)

    def merge(self) -> None:
        names = self.selected_names()
        if not names:
            QMessageBox.information(self, "Tag manager", "Select the tags to merge first.")
            return
        everyone = [row.name for row in self.model.rows]
        target, ok = QInputDialog.getItem(self, "Merge tags", f"Merge {', '.join(names)} into:", everyone, 0, True)
        if ok:
            self.session.merge_tags([n for n in names if n.casefold() != target.casefold()], target)

    def delete(self) -> None:
        name = self._one()
        if name is None:
            return
        row = next(r for r in self.model.rows if r.name == name)
        below = [r for r in self.model.rows if len(r.path) > len(row.path) and r.path[: len(row.path)] == row.path]
        also = (f" The {len(below)} tag{'' if len(below) == 1 else 's'} under it go too"
                f" ({', '.join(r.name for r in below[:3])}{', …' if len(below) > 3 else ''}).") if below else ""
        answer = QMessageBox.question(
            self, "Delete tag",
            f"Delete '{name}' from the library? It is confirmed on {row.confirmed} photos and suggested on "
            f"{row.suggested}.{also} You can undo this with Ctrl+Z.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.session.delete_tag(name)

    def set_threshold(self) -> None:
        name = self._one()
        if name is not None:
            self.session.set_threshold(name, round(self.threshold.value(), 2))

    def auto_threshold(self) -> None:
        name = self._one()
        if name is not None:
            self.session.set_threshold(name, None)
