"""The thumbnail grid: a QListView in icon mode (virtualized: only visible cells are
painted), uniform cell sizes so 20,000 rows lay out instantly."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyleOptionViewItem, QWidget

from photo_tagger.gui.thumb_delegate import ThumbDelegate

# Keys that are shortcuts on the grid (menus.py): type-ahead search never takes them, even
# when their shortcut does not fire (no suggestion to act on, a keypad digit, a dialog's
# shortcut map in between).
SHORTCUT_KEYS = frozenset("aArRtT123456789")


class PhotoGridView(QListView):
    accept_pressed = Signal()  # Enter / Return on the grid

    def __init__(self, delegate: ThumbDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("grid")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # a dropped folder goes to the main window
        self.setItemDelegate(delegate)
        self.delegate = delegate
        self._cell = QSize(1, 1)  # the thumbnail's cell before the spare width is shared out

    def showEvent(self, event: QShowEvent) -> None:
        """Polishing the view (when first shown) leaves its viewport transparent, and a
        transparent widget cannot scroll by moving its pixels: every scroll step repainted
        every visible cell (seen on xcb and offscreen alike). Opaque, a step paints only
        the strip coming into view."""
        super().showEvent(event)
        self.viewport().setAutoFillBackground(True)

    def set_thumb_size(self, size: int) -> None:
        self.delegate.thumb_size = size
        self.verticalScrollBar().setSingleStep(size // 4)
        hint = self.delegate.sizeHint(QStyleOptionViewItem(), QModelIndex())
        self._cell = QSize(hint.width() + 4, hint.height() + 4)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """As many columns as fit, sharing the width left over between them: no empty band
        beside the last column."""
        cell = self._cell
        width = self.viewport().width() - 4 * self.spacing() - 1  # QListView's margins and rounding
        columns = max(1, width // cell.width())
        size = QSize(max(cell.width(), width // columns), cell.height())
        if size != self.gridSize():
            self.setGridSize(size)
            self.scheduleDelayedItemsLayout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def visible_rows(self, margin: int = 0) -> range:
        """The rows on screen (plus `margin` rows either side), from the scroll position and
        the uniform cell size: no item geometry is asked for."""
        cell = self.gridSize()
        if not cell.isValid() or cell.width() <= 0 or cell.height() <= 0:
            return range(0, 0)
        columns = max(1, self.viewport().width() // cell.width())
        top = max(0, self.verticalScrollBar().value())
        first = top // cell.height() * columns
        last = ((top + self.viewport().height()) // cell.height() + 1) * columns
        return range(max(0, first - margin), last + margin)

    def keyboardSearch(self, search: str) -> None:
        if search and search[-1] in SHORTCUT_KEYS:
            return
        super().keyboardSearch(search)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.accept_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)
