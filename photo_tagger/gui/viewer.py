"""Look at a photo properly: Space (or a double-click) on the grid shows the current photo
fitted to the window; arrows go to the next or previous photo in the grid's order and
filter; Escape or Space returns to the grid.

Why an overlay: the viewer is a child of the main window laid over the central widget,
left of the tag panel, not a page of a stacked widget wrapping the layout. The
layout (splitters, their saved states) stays untouched, so it merges with other layout
work, and the tag panel stays where it is, showing the viewed photo's suggestions with
their numbers: the window's own actions (Enter/A, 1-9, R, T, Ctrl+Z) work unchanged,
because the viewer moves the grid's selection as it goes; the photo shown is the
selection. The preview above the panel is hidden meanwhile (the same photo, smaller).

The cached thumbnail is shown at once, scaled up to the size the photo will have; the file
is decoded in the io pool by `preview.read_scaled` (so `core.imaging`: HEIC, EXIF
orientation, the regular-file guard, pixel caps, a timeout) at the size of the view, then
swapped in. The neighbours are decoded next, so stepping through is immediate.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QMainWindow, QWidget

from photo_tagger.core.browse import PhotoInfo
from photo_tagger.gui.grid_model import PhotoGridModel
from photo_tagger.gui.grid_view import PhotoGridView
from photo_tagger.gui.op_runner import Op, io_pool
from photo_tagger.gui.preview import PreviewPane, describe, read_scaled
from photo_tagger.gui.tag_panel import TagPanel
from photo_tagger.gui.thumbnails import ThumbnailCache

CACHED = 6  # decoded photos kept: the one shown, its neighbours and a few just seen
MESSAGES = {
    "error": "Cannot show this photo:\n{error}",
    "missing": "The file is missing: moved or deleted outside photo-tagger. Its tags are kept.",
    "pending": "Waiting to be indexed\u2026",
}
_PREVIOUS = (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace)
_NEXT = (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown)


class PhotoViewer(QWidget):
    """Over `window`'s central widget; follows `grid`'s current photo."""

    accept_requested = Signal()  # Enter, as on the grid
    closed = Signal()  # back to the grid: the preview shows again

    def __init__(self, window: QMainWindow, grid: PhotoGridView, model: PhotoGridModel, panel: TagPanel,
                 preview: PreviewPane) -> None:
        super().__init__(window)  # not the central widget: a QSplitter adopts children as panes
        self.setObjectName("viewer")
        self._window, self._grid, self._model, self._panel, self._preview = window, grid, model, panel, preview
        self._root: Path | None = None  # the open library's folder
        self._thumbs: ThumbnailCache | None = None
        self.photo_id: int | None = None
        self.pixmap: QPixmap | None = None  # the photo decoded, or its thumbnail meanwhile
        self.full_size = QSize()  # the size the photo is painted at (thumbnail scaled to it)
        self.message = ""
        self.caption = ""
        self._row = 0
        self._cache: OrderedDict[int, tuple[QSize, QImage]] = OrderedDict()
        self._loading: dict[int, Op] = {}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), QColor(24, 24, 24))
        self.setPalette(palette)
        self.hide()
        grid.doubleClicked.connect(lambda _index: self.open())
        grid.installEventFilter(self)  # Space on the grid
        window.centralWidget().installEventFilter(self)  # the window resized
        panel.installEventFilter(self)  # the splitter moved
        model.modelReset.connect(self._grid_changed)
        panel.add_requested.connect(self._tag_added)
        self._follow = QTimer(self, singleShot=True, interval=0)
        self._follow.timeout.connect(self._show_current)
        grid.selectionModel().currentChanged.connect(lambda *_a: self.isVisible() and self._follow.start())

    def set_library(self, root: Path | None, thumbs: ThumbnailCache | None) -> None:
        """The library opened (or None: closed) and its thumbnails, shown while decoding."""
        self._root, self._thumbs = root, thumbs

    # -- opening and closing ------------------------------------------------------------------
    def open(self) -> None:
        """Show the grid's current photo (alone in the selection: it is what the tag keys act on)."""
        index = self._grid.currentIndex()
        if self._root is None or not index.isValid():
            return
        self._grid.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._preview.hide()
        self._place()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show_current()

    def close_viewer(self) -> None:
        """Back to the grid, on the photo last viewed."""
        self.hide()
        self._cache.clear()
        self.photo_id = None
        self._preview.show()
        # Once the splitter has laid it out again: it decodes at its size.
        QTimer.singleShot(0, self.closed.emit)
        self._grid.scrollTo(self._grid.currentIndex())
        self._grid.setFocus(Qt.FocusReason.OtherFocusReason)

    def step(self, delta: int) -> None:
        """Move the grid's current photo (and selection) by `delta` rows; the view follows."""
        grid, count = self._grid, self._model.rowCount()
        if count == 0:
            return
        row = grid.currentIndex().row() if grid.currentIndex().isValid() else 0
        row = min(max(row + delta, 0), count - 1)
        grid.selectionModel().setCurrentIndex(self._model.index(row),
                                              QItemSelectionModel.SelectionFlag.ClearAndSelect)

    # -- keys and events -------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, count = event.key(), self._model.rowCount()
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)  # Ctrl+Z and the rest: the window's actions
        elif key in (Qt.Key.Key_Escape, Qt.Key.Key_Space):
            self.close_viewer()
        elif key in _PREVIOUS:
            self.step(-1)
        elif key in _NEXT:
            self.step(1)
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            self.step(-count if key == Qt.Key.Key_Home else count)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def mouseDoubleClickEvent(self, event: Any) -> None:
        self.close_viewer()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self._grid and kind == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() == Qt.Key.Key_Space and not key_event.modifiers():
                self.open()
                return True
        elif kind in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show, QEvent.Type.Hide) \
                and self.isVisible():
            self._place()
        return False

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.photo_id is not None:
            self._show_current(force=True)

    def _place(self) -> None:
        """Cover the central widget left of the tag panel (all of it if the panel is hidden)."""
        area = self._window.centralWidget().geometry()
        if self._panel.isVisible():
            area.setRight(max(area.left() + 1, self._panel.mapTo(self._window, QPoint(0, 0)).x() - 5))
        self.setGeometry(area)

    def _grid_changed(self) -> None:
        if self.isVisible():  # after the window has put the selection back
            QTimer.singleShot(0, self._after_grid_changed)

    def _after_grid_changed(self) -> None:
        """The grid re-filtered: if the photo shown left it (tagged out of 'Unreviewed'),
        show the photo now at its place."""
        grid, model = self._grid, self._model
        if not self.isVisible():
            return
        if model.rowCount() == 0:
            self.close_viewer()
            return
        if not grid.currentIndex().isValid():
            row = min(self._row, model.rowCount() - 1)
            grid.selectionModel().setCurrentIndex(model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._show_current()

    def _tag_added(self, _name: str) -> None:
        if self.isVisible():
            QTimer.singleShot(0, lambda: self.setFocus(Qt.FocusReason.OtherFocusReason))

    # -- showing -------------------------------------------------------------------------------------
    def box(self) -> QSize:
        """The pixels the photo may fill: this view's, never more than the screen's."""
        ratio = self.devicePixelRatioF()
        size = QSize(int(self.width() * ratio), int(self.height() * ratio))
        screen = self.screen()
        if screen is not None:
            size = size.boundedTo(screen.size() * screen.devicePixelRatio())
        return size

    def _show_current(self, force: bool = False) -> None:
        index = self._grid.currentIndex()
        info = self._model.info(index.row()) if index.isValid() else None
        if info is None or self._root is None:
            return
        if info.id == self.photo_id and not force:
            return
        self.photo_id, self._row = info.id, index.row()
        self.caption = f"{index.row() + 1:,} / {self._model.rowCount():,}  \u00b7  {describe(info)}"
        self.message = MESSAGES.get(info.status, "").format(error=info.error or "unknown error")
        self.full_size = self._fitted(info)
        cached = self._cache.get(info.id)
        if info.status in ("ok", "pending"):
            if cached is not None:
                self._cache.move_to_end(info.id)
                self.pixmap = QPixmap.fromImage(cached[1])
            elif self._thumbs is not None:
                self.pixmap = self._thumbs.pixmap(info.id)
            if cached is None or cached[0] != self.box():
                self._decode(info)
            self._prefetch(index.row())
        else:
            self.pixmap = None
        self.update()

    def _fitted(self, info: PhotoInfo) -> QSize:
        """The size the photo is shown at: fitted to the box, a small one enlarged at most 2x
        (as the preview does: past that it is mostly blur)."""
        if not info.width or not info.height:
            return QSize()
        size = QSize(info.width, info.height)
        fitted = size.scaled(self.box(), Qt.AspectRatioMode.KeepAspectRatio)
        return size * 2 if fitted.width() > size.width() * 2 else fitted

    def _prefetch(self, row: int) -> None:
        for neighbour in (row + 1, row - 1):
            if 0 <= neighbour < self._model.rowCount():
                info = self._model.info(neighbour)
                if info is not None and info.status == "ok" and info.id not in self._cache:
                    self._decode(info)

    def _decode(self, info: PhotoInfo) -> None:
        if info.id in self._loading or self._root is None:
            return
        path, box, photo_id = self._root / info.path, self.box(), info.id

        def done(image: QImage) -> None:
            self._loading.pop(photo_id, None)
            self._cache[photo_id] = (box, image)
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
            if photo_id == self.photo_id and self.isVisible():
                self.pixmap = QPixmap.fromImage(image)
                self.message = ""
                self.update()

        def failed(message: str) -> None:
            self._loading.pop(photo_id, None)
            if photo_id == self.photo_id and self.isVisible():
                self.pixmap = None
                self.message = f"Cannot show this photo:\n{message}"
                self.update()

        op = self._loading[photo_id] = Op(partial(read_scaled, path, max_side=max(box.width(), box.height()),
                                                             fit=box))
        io_pool().start(op.success(done).failure(failed))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        text_area = self.rect().adjusted(12, 0, -12, -8)
        if self.pixmap is not None and not self.pixmap.isNull():
            ratio = self.devicePixelRatioF()
            size = self.full_size if self.full_size.isValid() \
                else self.pixmap.size().scaled(self.box(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, round(size.width() / ratio), round(size.height() / ratio))
            target.moveCenter(self.rect().center())
            painter.drawPixmap(target, self.pixmap)
        if self.message:
            painter.setPen(QColor(230, 230, 230))
            painter.drawText(self.rect().adjusted(24, 0, -24, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        band = painter.fontMetrics().height() * 2 + 14  # the caption stays legible over a light photo
        painter.fillRect(QRect(0, self.height() - band, self.width(), band), QColor(0, 0, 0, 150))
        painter.setPen(QColor(220, 220, 220))
        painter.drawText(text_area, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                         f"{self.caption}\n\u2190 \u2192 next photo   \u00b7   Esc back to the grid")
