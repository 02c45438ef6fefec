"""What the preview and the tag panel show for the grid's current photo and selection.
The window calls these once per event-loop pass after the selection moved, after
refreshes, and with tags read in the background (`panel_title`)."""

from __future__ import annotations

from pathlib import Path

from photo_tagger.core import browse
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.gui.grid_model import PhotoGridModel
from photo_tagger.gui.grid_view import PhotoGridView
from photo_tagger.gui.preview import PreviewPane
from photo_tagger.gui.tag_panel import TagPanel
from photo_tagger.gui.thumbnails import ThumbnailCache


def show_preview(preview: PreviewPane, grid: PhotoGridView, model: PhotoGridModel, root: Path | None,
                 thumbs: ThumbnailCache | None) -> None:
    """The current photo of the library at `root`: its cached thumbnail at once (the
    preview decodes the file)."""
    index = grid.currentIndex()
    if root is None or not index.isValid():
        preview.show_photo(None, None, None)
        return
    info = model.info(index.row())
    pixmap = thumbs.pixmap(info.id) if thumbs is not None and info is not None else None
    preview.show_photo(root, info, pixmap)


def show_tags(panel: TagPanel, model: PhotoGridModel, catalogue: Catalogue | None, ids: list[int]) -> None:
    """The tag panel for `ids`, what an action would act on."""
    if catalogue is None or not ids:
        panel.show_tags("No photo selected", None)
        return
    panel.show_tags(panel_title(model, ids), browse.selection_tags(catalogue, ids))


def panel_title(model: PhotoGridModel, ids: list[int]) -> str:
    if len(ids) != 1:
        return f"{len(ids):,} photos selected"
    row = model.row_of(ids[0])
    info = model.info(row) if row is not None else None
    return info.name if info is not None else "1 photo"
