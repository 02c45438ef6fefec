"""While a job writes to the catalogue (indexing), the window re-reads it in the background.

Each poll reads, in an io-pool thread with that thread's own read connection, everything
the window shows: the filter's photo ids, the status counts, the infos of the cells on
screen and the selection's tags. The GUI thread only compares and applies, so a cell whose
photo changed repaints and nothing else does. (A synchronous refresh used to re-run those
queries on the GUI thread and repaint every visible cell every 400 ms: 30-90 ms stalls while
indexing.) The user's own changes still refresh synchronously; they make a snapshot that was
read before them stale, and a stale snapshot is dropped and read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from photo_tagger.core import browse
from photo_tagger.core.browse import BrowseFilter, PhotoInfo, SelectionTags
from photo_tagger.core.library import Library
from photo_tagger.core.store import photos
from photo_tagger.gui.grid_model import BLOCK
from photo_tagger.gui.selection_display import panel_title
from photo_tagger.gui.thumbnails import thread_catalogue
from photo_tagger.gui.workers import CallWorker, io_pool

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow


@dataclass(frozen=True)
class CatalogueSnapshot:
    stamp: int  # `CataloguePoll.stamp` when it was asked for
    flt: BrowseFilter
    ids: list[int]  # what the filter selects, in its order
    counts: dict[str, int]  # status -> photos
    read: list[int]  # the ids whose infos were re-read (the cells on screen)
    infos: dict[int, PhotoInfo]
    selection: list[int]
    tags: SelectionTags | None  # the selection's, None without a selection


def read_snapshot(library: Library, stamp: int, flt: BrowseFilter, read: list[int],
                  selection: list[int]) -> CatalogueSnapshot:
    """Runs in an io-pool thread."""
    catalogue = thread_catalogue(library)
    return CatalogueSnapshot(
        stamp, flt, browse.photo_ids(catalogue, flt), photos.library_counts(catalogue), read,
        browse.photo_infos(catalogue, read), selection,
        browse.selection_tags(catalogue, selection) if selection else None,
    )


class CataloguePoll:
    """Owned by the main window: one background read at a time, applied if still current."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.stamp = 0  # bumped by anything that makes a snapshot in flight stale
        self._worker: CallWorker | None = None
        self._again = False

    def forget(self) -> None:
        """The window changed what it shows (a user change, a refresh, another library)."""
        self.stamp += 1

    def poll(self) -> None:
        """Read the catalogue again in the background if another connection committed."""
        w = self.window
        if w.session is None:
            return
        if self._worker is not None:
            self._again = True
            return
        version = photos.data_version(w.session.catalogue)
        if version == w.data_version:
            return
        w.data_version = version
        if w.thumbs is not None:
            w.thumbs.forget_absent()
        rows = w.grid.visible_rows(margin=BLOCK // 2)
        request = (w.session.library, self.stamp, w.filter_bar.current(), w.model.cached_ids(rows), w.target_ids())
        worker = self._worker = CallWorker(lambda: read_snapshot(*request))
        worker.signals.finished.connect(self._apply)
        worker.signals.failed.connect(self._failed)
        io_pool().start(worker)

    def _done(self) -> None:
        self._worker = None
        if self._again:
            self._again = False
            self.poll()

    def _failed(self, _message: str) -> None:  # a locked or vanished catalogue: the next poll tries again
        self.window.data_version = -1
        self._done()

    def _apply(self, snapshot: CatalogueSnapshot) -> None:
        w = self.window
        current = w.session is not None and snapshot.stamp == self.stamp and snapshot.flt == w.filter_bar.current()
        if not current:
            w.data_version = -1  # read again at the next poll
        else:
            if not w.show_ids(snapshot.ids, snapshot.flt):
                w.model.update_infos(snapshot.infos, snapshot.read)
            w.update_counts(w.model.rowCount(), snapshot.counts)
            if snapshot.tags is not None and w.target_ids() == snapshot.selection:
                w.panel.show_tags(panel_title(w, snapshot.selection), snapshot.tags)
        self._done()
