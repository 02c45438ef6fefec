"""The grid's model: a list of photo ids; everything else is fetched lazily in `data()`.

Cell info (name, status, tags) is read from the catalogue in blocks of `BLOCK` rows around
the row asked for and cached until the catalogue changes, so painting a screenful costs
one or two small queries and a 20,000-photo library costs a list of 20,000 ints.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from photo_tagger.core.browse import PhotoInfo, photo_infos
from photo_tagger.core.store.connection import Catalogue

BLOCK = 64
PhotoIdRole = Qt.ItemDataRole.UserRole + 1
InfoRole = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex
# Computed once: flags() runs for every painted cell, and or-ing Qt enums costs ~20 us each.
CELL_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class PhotoGridModel(QAbstractListModel):
    def __init__(self, catalogue: Catalogue | None = None, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._catalogue = catalogue
        self._ids: list[int] = []
        self._rows: dict[int, int] = {}
        self._infos: dict[int, PhotoInfo] = {}

    # -- contents ---------------------------------------------------------------
    def set_catalogue(self, catalogue: Catalogue | None) -> None:
        self.beginResetModel()
        self._catalogue = catalogue
        self._ids, self._rows, self._infos = [], {}, {}
        self.endResetModel()

    def set_ids(self, ids: Sequence[int]) -> bool:
        """Show `ids`; returns whether the list changed (then the model was reset)."""
        ids = list(ids)
        if ids == self._ids:
            return False
        self.beginResetModel()
        self._ids = ids
        self._rows = {photo_id: row for row, photo_id in enumerate(ids)}
        self._infos = {}
        self.endResetModel()
        return True

    def ids(self) -> list[int]:
        return list(self._ids)

    def row_of(self, photo_id: int) -> int | None:
        return self._rows.get(photo_id)

    def photo_id(self, row: int) -> int:
        return self._ids[row]

    def info(self, row: int) -> PhotoInfo | None:
        photo_id = self._ids[row]
        info = self._infos.get(photo_id)
        if info is None and self._catalogue is not None:
            # The block around it that is not cached: after an edit that is the edited photo
            # alone (a block re-read costs ~5 ms at 58 suggestion rows a photo), when scrolling
            # the next screenful.
            block = [i for i in self._ids[max(0, row - BLOCK // 4) : row + BLOCK] if i not in self._infos]
            self._infos.update(photo_infos(self._catalogue, block))
            info = self._infos.get(photo_id)
        return info

    def invalidate(self, photo_ids: Sequence[int] | None = None) -> None:
        """Re-read these photos' info (all when None) the next time they are painted."""
        if not self._ids:
            return
        if photo_ids is None:
            self._infos = {}
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))
            return
        for photo_id in photo_ids:
            self._infos.pop(photo_id, None)
            self.photo_changed(photo_id)

    def cached_ids(self, rows: range) -> list[int]:
        """The ids in `rows` (clamped to the model): what a background re-read should cover."""
        return self._ids[max(0, rows.start) : max(0, min(rows.stop, len(self._ids)))]

    def update_infos(self, infos: dict[int, PhotoInfo], read: Sequence[int]) -> int:
        """Apply infos re-read in the background for the ids `read`: only cells whose info
        really changed are repainted (a full `invalidate` repaints and re-queries every
        visible cell). Other cached infos are dropped and re-read when next painted.
        Returns how many cells changed."""
        read_set = set(read)
        for photo_id in [i for i in self._infos if i not in read_set]:
            del self._infos[photo_id]
        changed = []
        for photo_id in read:
            info = infos.get(photo_id)
            if info is None:  # deleted meanwhile: the id list changes with it
                self._infos.pop(photo_id, None)
            elif self._infos.get(photo_id) != info:
                self._infos[photo_id] = info
                row = self._rows.get(photo_id)
                if row is not None:
                    changed.append(row)
        for first, last in _runs(sorted(changed)):
            self.dataChanged.emit(self.index(first), self.index(last))
        return len(changed)

    def photo_changed(self, photo_id: int) -> None:
        row = self._rows.get(photo_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index)

    # -- QAbstractListModel ---------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == PhotoIdRole:
            return self._ids[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, InfoRole):
            return None
        info = self.info(index.row())
        if info is None:
            return None
        if role == InfoRole:
            return info
        if role == Qt.ItemDataRole.DisplayRole:
            return info.name
        return tooltip(info)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return CELL_FLAGS


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive rows: one dataChanged per run."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def tooltip(info: PhotoInfo) -> str:
    if info.status == "error":
        return f"{info.path}\nCannot show this photo: {info.error or 'unknown error'}"
    if info.status == "missing":
        return f"{info.path}\nThe file is missing (moved or deleted outside photo-tagger); its tags are kept."
    if info.status == "pending":
        return f"{info.path}\nWaiting to be indexed"
    tags = ", ".join(info.tags) if info.tags else "no tags yet"
    return f"{info.path}\n{tags}"
