"""What the preview and the tag panel show for the grid's current photo and selection.
The window calls these once per event-loop pass after the selection moved, and after
refreshes; `catalogue_poll` applies tags read in the background with `panel_title`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from photo_tagger.core import browse

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow


def show_preview(window: MainWindow) -> None:
    """The current photo: its cached thumbnail at once (the preview decodes the file)."""
    w = window
    index = w.grid.currentIndex()
    if w.session is None or not index.isValid():
        w.preview.show_photo(None, None, None)
        return
    info = w.model.info(index.row())
    pixmap = w.thumbs.pixmap(info.id) if w.thumbs is not None and info is not None else None
    w.preview.show_photo(w.session.library.root, info, pixmap)


def show_tags(window: MainWindow) -> None:
    """The tag panel for what an action would act on (`MainWindow.target_ids`)."""
    w = window
    ids = w.target_ids()
    if w.session is None or not ids:
        w.panel.show_tags("No photo selected", None)
        return
    w.panel.show_tags(panel_title(w, ids), browse.selection_tags(w.session.catalogue, ids))


def panel_title(window: MainWindow, ids: list[int]) -> str:
    if len(ids) != 1:
        return f"{len(ids):,} photos selected"
    row = window.model.row_of(ids[0])
    info = window.model.info(row) if row is not None else None
    return info.name if info is not None else "1 photo"
