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

from PySide6.QtCore import QObject, Signal

from photo_tagger.core import browse
from photo_tagger.core.browse import BrowseFilter, PhotoInfo, SelectionTags
from photo_tagger.core.library import Library
from photo_tagger.core.store import photos
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.gui.op_runner import Op, io_pool
from photo_tagger.gui.thumbnails import thread_catalogue


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


class CataloguePoll(QObject):
    """One background read at a time; `snapshot_read` with it if nothing made it stale."""

    snapshot_read = Signal(object)  # a CatalogueSnapshot
    read_again = Signal()  # a poll came while reading: ask once more now

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stamp = 0  # bumped by anything that makes a snapshot in flight stale
        self.data_version = -1  # the catalogue's PRAGMA data_version when last read
        self._op: Op | None = None
        self._again = False

    @property
    def reading(self) -> bool:
        return self._op is not None

    def forget(self) -> None:
        """The window changed what it shows (a user change, a refresh, another library)."""
        self.stamp += 1

    def read_at(self, catalogue: Catalogue) -> None:
        """The window read `catalogue` itself, now."""
        self.data_version = photos.data_version(catalogue)

    def read_later(self) -> None:
        """What was read is not shown: the next poll reads again, changed or not."""
        self.data_version = -1

    def changed_since_read(self, catalogue: Catalogue) -> bool:
        """Another connection committed since the last read (which this poll now is), and
        no read is in flight (then one follows it: `read_again`)."""
        if self._op is not None:
            self._again = True
            return False
        version = photos.data_version(catalogue)
        if version == self.data_version:
            return False
        self.data_version = version
        return True

    def read(self, library: Library, flt: BrowseFilter, read: list[int], selection: list[int]) -> None:
        """Read, in an io-pool thread, what the window shows: the filter's ids, the counts,
        the infos of `read` (the cells on screen) and the tags of `selection`."""
        op = self._op = Op(read_snapshot, library, self.stamp, flt, read, selection)
        io_pool().start(op.success(self._apply).failure(self._failed))

    def _done(self) -> None:
        self._op = None
        if self._again:
            self._again = False
            self.read_again.emit()

    def _failed(self, _message: str) -> None:  # a locked or vanished catalogue: the next poll tries again
        self.read_later()
        self._done()

    def _apply(self, snapshot: CatalogueSnapshot) -> None:
        if snapshot.stamp == self.stamp:
            self.snapshot_read.emit(snapshot)
        else:
            self.read_later()
        self._done()
