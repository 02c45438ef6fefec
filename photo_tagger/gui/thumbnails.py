"""An LRU cache of thumbnail pixmaps, filled by background reads.

`pixmap(id)` never blocks: on a miss it queues the id and returns None. Queued ids are
read from the catalogue (one query per batch, in the worker thread's own connection) and
decoded to QImage in the io pool; the QPixmap is made here on the GUI thread (QPixmap is
GUI-thread only) and `ready(id)` tells the grid to repaint that cell.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from PySide6.QtCore import QObject, QRunnable, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from photo_tagger.core.library import Library
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.photos import thumbnail_jpegs
from photo_tagger.gui.op_runner import io_pool

BATCH = 48
_local = threading.local()


def thread_catalogue(library: Library) -> Catalogue:
    """One read connection per pool thread and library (sqlite3 connections stay in their thread)."""
    cache: dict[object, Catalogue] = getattr(_local, "catalogues", None) or {}
    _local.catalogues = cache
    key = library.catalogue_path
    if key not in cache:
        cache[key] = Catalogue(key, readonly=True)
    return cache[key]


class _Signals(QObject):
    loaded = Signal(object)  # (size, dict[int, QImage]); ids without a stored thumbnail are absent
    attempted = Signal(object)  # the ids of the batch


class _LoadBatch(QRunnable):
    def __init__(self, library: Library, ids: Sequence[int], size: int, signals: _Signals) -> None:
        super().__init__()
        self.library, self.ids, self.size, self.signals = library, list(ids), size, signals

    def run(self) -> None:
        images: dict[int, QImage] = {}
        try:
            blobs = thumbnail_jpegs(thread_catalogue(self.library), self.ids)
        except Exception:  # a locked or vanished catalogue: cells stay placeholders
            blobs = {}
        for photo_id, jpeg in blobs.items():
            image = QImage.fromData(jpeg, "JPEG")
            if not image.isNull():
                # Scaled here, once, so painting a cell is a 1:1 copy on the GUI thread.
                images[photo_id] = image.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation)
        self.signals.loaded.emit((self.size, images))
        self.signals.attempted.emit(self.ids)


# The thumbnail size (px) the grid starts at, until the zoom slider moves.
DEFAULT_THUMB_SIZE = 160


class ThumbnailCache(QObject):
    ready = Signal(int)

    def __init__(self, library: Library, capacity: int = 1500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.capacity = capacity  # 1500 pixmaps of 160 px: ~100 MB
        self.size = DEFAULT_THUMB_SIZE
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._queued: list[int] = []
        self._in_flight: set[int] = set()
        self._absent: set[int] = set()  # asked, nothing stored yet (pending photos)
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)
        self._signals.attempted.connect(self._on_attempted)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._dispatch)

    def pixmap(self, photo_id: int) -> QPixmap | None:
        pixmap = self._pixmaps.get(photo_id)
        if pixmap is not None:
            self._pixmaps.move_to_end(photo_id)
            return pixmap
        if photo_id not in self._in_flight and photo_id not in self._absent:
            self._in_flight.add(photo_id)
            self._queued.append(photo_id)
            self._timer.start()
        return None

    def loading(self, photo_id: int) -> bool:
        """Asked for and on its way: a cell painted now would be painted again shortly."""
        return photo_id in self._in_flight

    def set_size(self, size: int) -> None:
        """Cells are now `size` px: pixmaps are re-made at that size as cells are painted."""
        if size != self.size:
            self.size = size
            self._pixmaps.clear()
            self._absent.clear()

    def forget_absent(self) -> None:
        """New thumbnails may have landed (indexing progress): ask again for the missing."""
        self._absent.clear()

    def _dispatch(self) -> None:
        # Newest requests first: they are what the user is looking at after a fast scroll.
        queued, self._queued = self._queued[::-1], []
        for start in range(0, len(queued), BATCH):
            io_pool().start(_LoadBatch(self.library, queued[start : start + BATCH], self.size, self._signals))

    def _on_loaded(self, loaded: tuple[int, dict[int, QImage]]) -> None:
        size, images = loaded
        if size != self.size:  # made for the previous zoom
            return
        for photo_id, image in images.items():
            self._pixmaps[photo_id] = QPixmap.fromImage(image)
            self._pixmaps.move_to_end(photo_id)
            self.ready.emit(photo_id)
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)

    def _on_attempted(self, ids: list[int]) -> None:
        for photo_id in ids:
            self._in_flight.discard(photo_id)
            if photo_id not in self._pixmaps:
                self._absent.add(photo_id)
