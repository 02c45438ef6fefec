"""The main window: grid, preview and tag panel; opening a library; the selection and
refreshing. It presents and dispatches: queries are `core.browse`, tag edits go through
`LibrarySession` (undoable), everything else runs as an op on the `OpRunner`, and the views
refresh from the `Changes` both return. The window builds its collaborators and wires
them: the File menu's jobs (`library_jobs`) and retraining (`retraining`), which start ops
on the open library (`library_ops`) and tell the user through the `Notifier`; the menus
(`menus`) and the widgets' arrangement (`window_layout`), built and handed back; what is
kept between runs (`window_settings`); the review queue's order (`review_order`);
re-reading the catalogue while a job writes to it (`catalogue_poll`); what the preview and
tag panel show for the selection (`selection_display`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QUndoGroup
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow

from photo_tagger.core import browse, tag_names
from photo_tagger.core.changes import Changes
from photo_tagger.core.errors import UserError
from photo_tagger.core.library import Library
from photo_tagger.core.store import photos, tags
from photo_tagger.gui import selection_display
from photo_tagger.gui.catalogue_poll import CataloguePoll, CatalogueSnapshot
from photo_tagger.gui.filter_bar import FilterBar
from photo_tagger.gui.grid_model import BLOCK, PhotoGridModel
from photo_tagger.gui.grid_view import PhotoGridView
from photo_tagger.gui.job_status import JobStatus
from photo_tagger.gui.library_jobs import LibraryJobs
from photo_tagger.gui.library_ops import LibraryOps
from photo_tagger.gui.menus import build_menus
from photo_tagger.gui.notifier import Notifier
from photo_tagger.gui.op_runner import OpRunner
from photo_tagger.gui.preview import PreviewPane
from photo_tagger.gui.retraining import Retraining
from photo_tagger.gui.review_order import ReviewOrder
from photo_tagger.gui.session import LibrarySession
from photo_tagger.gui.shortcuts import ShortcutSheet
from photo_tagger.gui.tag_manager import TagManager
from photo_tagger.gui.tag_panel import TagPanel
from photo_tagger.gui.thumb_delegate import ThumbDelegate
from photo_tagger.gui.thumbnails import ThumbnailCache
from photo_tagger.gui.viewer import PhotoViewer
from photo_tagger.gui.window_layout import build_layout
from photo_tagger.gui.window_settings import RecentFolders, restore_settings, save_settings

POLL_MS = 400  # at most this often, re-read the catalogue while a job writes to it


class MainWindow(QMainWindow):
    session_changed = Signal(object)  # the LibrarySession opened, or None when closed

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.session: LibrarySession | None = None
        self._tag_list_version: tuple[int, int] | None = None  # of the tag names shown
        self.thumbs: ThumbnailCache | None = None
        self.setWindowTitle("photo-tagger")
        self.setAcceptDrops(True)
        self.undo_group = QUndoGroup(self)
        self.model = PhotoGridModel(parent=self)
        self.delegate = ThumbDelegate(_NullCache())  # type: ignore[arg-type]
        self.grid = PhotoGridView(self.delegate)
        self.grid.setModel(self.model)
        self.filter_bar = FilterBar()
        self.preview = PreviewPane()
        self.panel = TagPanel()
        self.counts = QLabel()
        self.counts.setObjectName("counts")
        self.statusBar().addPermanentWidget(self.counts)
        self.notifier = Notifier(self, self.panel, self.grid)
        # An op reads the catalogue from its own connection: the edits queued before it
        # first (waited for in the op's pool thread, not here).
        self.runner = OpRunner(lambda: self.session.settle() if self.session is not None else None, self)
        self.job_status = JobStatus(self.runner, self.statusBar())
        library_ops = LibraryOps(self.runner, self.notifier)
        self.session_changed.connect(library_ops.set_session)
        self.library_jobs = LibraryJobs(library_ops)
        self.retraining = Retraining(library_ops, self.settings, self)
        self.review_order = ReviewOrder(self.runner, self.notifier, self)
        self.catalogue_poll = CataloguePoll(self)
        layout = build_layout(self.filter_bar, self.grid, self.preview, self.panel)
        self.banner, self.stack, self.side, self.splitter = layout.banner, layout.stack, layout.side, layout.splitter
        self.setCentralWidget(self.splitter)
        self.grid.set_thumb_size(self.filter_bar.zoom.value())
        self.menus = build_menus(self, self.undo_group, self._menu_slots(), self.accept_nth)
        self.recent_folders = RecentFolders(self.settings, self.menus.recent)
        self.viewer = PhotoViewer(self, self.grid, self.model, self.panel, self.preview)  # Space, double-click
        self._selection_timer = QTimer(self, singleShot=True, interval=0)
        self._poll = QTimer(self, singleShot=True, interval=POLL_MS)
        self._folder_check = QTimer(self, interval=3000)
        self._connect()
        restore_settings(self.settings, self, self.splitter, self.side, self.filter_bar.zoom)
        self._show_auto_retrain(self.retraining.auto_retrain_enabled(), self.retraining.auto_retrain_after())

    # -- building ---------------------------------------------------------------------
    def _menu_slots(self) -> dict[str, Callable[..., Any]]:
        jobs, training = self.library_jobs, self.retraining
        return {
            "open": self.choose_folder, "export": lambda: jobs.export_csv(), "importTags": lambda: jobs.import_tags(),
            "exportSidecars": jobs.export_sidecars, "reindex": jobs.start_indexing, "quit": self.close,
            "find": lambda: self.filter_bar.search.setFocus(), "refresh": self.refresh,
            "acceptAll": self.accept_all, "reject": lambda: self.reject_nth(1), "addTag": self.panel.focus_add_field,
            "queue": lambda: self.filter_bar.set_show("review"),
            "tagManager": self.open_tag_manager, "retrain": training.retrain,
            "trainingReport": training.show_training_report, "rollback": training.rollback,
            "autoRetrain": lambda checked: training.set_auto_retrain(checked),
            "autoRetrainAfter": training.ask_auto_retrain_after, "thresholdPolicy": training.ask_threshold_policy,
            "shortcuts": self.show_shortcuts,
        }

    def _connect(self) -> None:
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        self.grid.selectionModel().currentChanged.connect(self._selection_changed)
        self.grid.accept_pressed.connect(self.accept_all)
        self.filter_bar.changed.connect(lambda _f: self.refresh())
        self.filter_bar.zoom_changed.connect(self._zoom)
        self.panel.accept_requested.connect(lambda tag: self._with_session("accept", tag))
        self.panel.reject_requested.connect(lambda tag: self._with_session("reject", tag))
        self.panel.remove_requested.connect(lambda tag: self._with_session("remove", tag))
        self.panel.unreject_requested.connect(lambda tag: self._with_session("unreject", tag))
        self.panel.add_requested.connect(lambda name: self._with_session("confirm_on_all", name))
        self.panel.done_editing.connect(self.grid.setFocus)
        self.runner.progress.connect(lambda _p: self._poll.isActive() or self._poll.start())
        self.runner.changed.connect(lambda changes: self.show_changes(changes, refilter=True))
        self.retraining.auto_retrain_changed.connect(self._show_auto_retrain)
        self.review_order.ranked.connect(self.refresh)
        self.catalogue_poll.snapshot_read.connect(self._apply_snapshot)
        self.catalogue_poll.read_again.connect(self.poll_catalogue)
        self.recent_folders.chosen.connect(self.open_library)
        self.viewer.accept_requested.connect(self.accept_all)
        self.viewer.closed.connect(self._show_preview)
        self._selection_timer.timeout.connect(self._show_selection)
        self._poll.timeout.connect(self.poll_catalogue)
        self._folder_check.timeout.connect(self.check_folder)

    def _zoom(self, size: int) -> None:
        if self.thumbs is not None:
            self.thumbs.set_size(size)
        self.grid.set_thumb_size(size)

    def _show_auto_retrain(self, enabled: bool, after: int) -> None:
        action = self.menus.actions["autoRetrain"]
        action.setText(f"Retrain a&utomatically after {after:,} corrections")
        action.setChecked(enabled)

    # -- opening a library --------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of photos", str(Path.home()))
        if folder:
            self.open_library(Path(folder))

    def open_library(self, path: Path, *, index: bool = True) -> bool:
        """Open the folder `path`; with `index` (the default) bring it up to date in the background."""
        try:
            library = Library.open(path)
        except UserError as exc:
            # The core's message starts with the path: name it once.
            message = f"Cannot open {exc}" if str(exc).startswith(str(path)) else f"Cannot open {path}: {exc}"
            self.notifier.error(message, modal_box=True)
            return False
        self.close_library()
        self.session = LibrarySession(library, self)
        self.session.changed.connect(self.show_changes)
        self.session.error.connect(self.notifier.error)
        self.session.corrected.connect(self.retraining.maybe_auto_retrain)
        self.undo_group.addStack(self.session.undo_stack)
        self.undo_group.setActiveStack(self.session.undo_stack)
        self.thumbs = ThumbnailCache(library, parent=self)
        self.thumbs.set_size(self.filter_bar.zoom.value())
        self.thumbs.ready.connect(self._thumbnail_ready)
        self.delegate.cache = self.thumbs
        self.viewer.set_library(library.root, self.thumbs)
        self.model.set_catalogue(self.session.catalogue)
        self.session_changed.emit(self.session)
        self.stack.setCurrentWidget(self.grid)
        self.banner.hide()
        self.setWindowTitle(f"{library.root.name} \u2014 photo-tagger")
        self.recent_folders.remember(library.root)
        self._update_tag_names()
        self.refresh()
        if self.model.rowCount():
            self.grid.setCurrentIndex(self.model.index(0))
        self.grid.setFocus()
        self._folder_check.start()
        if index:
            self.library_jobs.start_indexing()
        return True

    def close_library(self) -> None:
        self.runner.wait()
        self._folder_check.stop()
        if self.session is not None:
            self.undo_group.removeStack(self.session.undo_stack)
            self.session.close()
            self.session.deleteLater()
            self.session = None
            self.session_changed.emit(None)
        self.model.set_catalogue(None)
        self.catalogue_poll.forget()
        self.review_order.forget()
        self.viewer.set_library(None, None)
        self.delegate.cache = _NullCache()  # type: ignore[assignment]
        self.thumbs = None

    def check_folder(self) -> None:
        """A folder that vanishes (unplugged drive, deleted) gets a clear message."""
        if self.session is None:
            return
        root = self.session.library.root
        if root.is_dir():
            if self.banner.isVisible():
                self.banner.hide()
                self.library_jobs.start_indexing()
            return
        if not self.banner.isVisible():
            self.runner.cancel()
            self.banner.setText(f"The folder {root} is no longer available (unplugged or deleted?). "
                                "Reconnect it to go on; nothing has been lost.")
            self.banner.show()

    # -- refreshing ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-run the filter; keep the current photo and the selection where they still show."""
        if self.session is None:
            return
        self.catalogue_poll.forget()  # a snapshot read before now would undo this
        flt = self.filter_bar.current()
        ids = browse.photo_ids(self.session.catalogue, flt)
        self.catalogue_poll.read_at(self.session.catalogue)
        if not self.show_ids(ids, flt):
            self.model.invalidate()
        self._show_tags()
        self.update_counts(len(ids), photos.library_counts(self.session.catalogue))

    def show_changes(self, changes: Changes, *, refilter: bool = False) -> None:
        """Refresh what `changes` touched. A tag edit's photos repaint and keep their place
        (a photo tagged out of the filter stays while you look at it); an op's (`refilter`)
        run the filter again."""
        if self.session is None or not changes.any:
            return
        if changes.head or changes.photos is None:
            self.review_order.forget()  # new scores: rank the review queue again
        if changes.tags is None or changes.tags:
            self._update_tag_names(unless_unchanged=changes.tags is not None)
        if changes.photos is None or (refilter and changes.photos):
            if self.thumbs is not None:
                self.thumbs.forget_absent()
            self.refresh()
        elif changes.photos:
            self.catalogue_poll.forget()
            self.model.invalidate(list(changes.photos))
            self._show_tags()

    def show_ids(self, ids: list[int], flt: browse.BrowseFilter) -> bool:
        """Show `ids` (the review queue in its order); returns whether the list changed."""
        if flt.show == "review" and flt.sort == "name" and self.session is not None:
            ids = self.review_order.order(ids, self.session.library)
        elif self.review_order.rank is not None:
            self.review_order.forget()  # left the queue: rank afresh when it is shown again
        selected, current = self.selected_ids(), self.current_id()
        current_row = self.grid.currentIndex().row()
        if not self.model.set_ids(ids):
            return False
        self._restore_selection(selected, current, current_row)
        self._selection_changed()  # a reset model says nothing: the preview follows here
        return True

    def update_counts(self, shown: int, by_status: dict[str, int]) -> None:
        parts = [f"{shown:,} shown", f"{by_status.get('ok', 0):,} indexed"]
        for status, label in (("pending", "waiting"), ("error", "unreadable"), ("missing", "missing")):
            if by_status.get(status):
                parts.append(f"{by_status[status]:,} {label}")
        self.counts.setText("  \u00b7  ".join(parts))

    def poll_catalogue(self) -> None:
        """While a job writes to the catalogue: if it committed since the last read, read
        what the window shows again, in the background (see `catalogue_poll`)."""
        if self.session is None or not self.catalogue_poll.changed_since_read(self.session.catalogue):
            return
        if self.thumbs is not None:
            self.thumbs.forget_absent()
        rows = self.grid.visible_rows(margin=BLOCK // 2)
        self.catalogue_poll.read(self.session.library, self.filter_bar.current(), self.model.cached_ids(rows),
                                 self.target_ids())

    def _apply_snapshot(self, snapshot: CatalogueSnapshot) -> None:
        if self.session is None or snapshot.flt != self.filter_bar.current():
            self.catalogue_poll.read_later()
            return
        if not self.show_ids(snapshot.ids, snapshot.flt):
            self.model.update_infos(snapshot.infos, snapshot.read)
        self.update_counts(self.model.rowCount(), snapshot.counts)
        if snapshot.tags is not None and self.target_ids() == snapshot.selection:
            self.panel.show_tags(selection_display.panel_title(self.model, snapshot.selection), snapshot.tags)

    def _restore_selection(self, selected: list[int], current: int | None, current_row: int = -1) -> None:
        """The current photo hidden by a filter: the one now in its place (or the last) instead."""
        model, selection = self.model, self.grid.selectionModel()
        rows = [r for r in (model.row_of(i) for i in selected) if r is not None]
        for row in rows:
            selection.select(model.index(row), QItemSelectionModel.SelectionFlag.Select)
        row = model.row_of(current) if current is not None else None
        if row is not None:
            selection.setCurrentIndex(model.index(row), QItemSelectionModel.SelectionFlag.NoUpdate)
        elif current is not None and model.rowCount():
            nearest = model.index(min(max(current_row, 0), model.rowCount() - 1))
            flags = QItemSelectionModel.SelectionFlag
            flag = flags.NoUpdate if rows else flags.ClearAndSelect
            selection.setCurrentIndex(nearest, flag)

    def _thumbnail_ready(self, photo_id: int) -> None:
        self.model.photo_changed(photo_id)
        if photo_id == self.current_id() and self.preview.picture.pixmap is None:
            self._show_preview()

    def _update_tag_names(self, *, unless_unchanged: bool = False) -> None:
        """`unless_unchanged`: skip the reading when no tag was added, renamed or moved (after
        a photo edit: reading every tag's path cost ~2 ms of each key press at 100k photos)."""
        if self.session is not None:
            version = tags.list_version(self.session.catalogue)
            if unless_unchanged and version == self._tag_list_version:
                return
            self._tag_list_version = version
            names = browse.tag_names(self.session.catalogue)
            self.panel.set_tag_paths(tag_names.tag_paths(self.session.catalogue, names))
            self.panel.set_tag_names(names)
            self.filter_bar.set_tag_names(names)

    # -- selection -> preview and tag panel -------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        return [self.model.photo_id(row) for row in rows if row < self.model.rowCount()]

    def current_id(self) -> int | None:
        index = self.grid.currentIndex()
        return self.model.photo_id(index.row()) if index.isValid() else None

    def target_ids(self) -> list[int]:
        """What an action acts on: the selection, else the current photo."""
        ids = self.selected_ids()
        current = self.current_id()
        return ids or ([current] if current is not None else [])

    def _selection_changed(self, *_args: Any) -> None:
        """Coalesced: holding an arrow key or a rubber-band drag updates the panels once
        per event-loop pass, not once per step."""
        self._selection_timer.start()

    def _show_selection(self) -> None:
        self._show_preview()
        self._show_tags()

    def _show_preview(self) -> None:
        root = self.session.library.root if self.session is not None else None
        selection_display.show_preview(self.preview, self.grid, self.model, root, self.thumbs)

    def _show_tags(self) -> None:
        catalogue = self.session.catalogue if self.session is not None else None
        selection_display.show_tags(self.panel, self.model, catalogue, self.target_ids())

    # -- tag actions -------------------------------------------------------------------
    def _with_session(self, method: str, argument: Any) -> None:
        if self.session is not None:
            getattr(self.session, method)(self.target_ids(), argument)

    def accept_all(self) -> None:
        if self.session is not None:
            self.session.accept_all(self.target_ids())

    def accept_nth(self, n: int) -> None:
        candidates = self.panel.tags.candidates if self.panel.tags is not None else []
        if 0 < n <= len(candidates):
            self._with_session("accept", candidates[n - 1])

    def reject_nth(self, n: int) -> None:
        candidates = self.panel.tags.candidates if self.panel.tags is not None else []
        if 0 < n <= len(candidates):
            self._with_session("reject", candidates[n - 1])

    # -- dialogs, drag and drop, closing ---------------------------------------------------
    def open_tag_manager(self) -> None:
        if self.session is None:
            self.notifier.error("Open a folder first.", modal_box=True)
            return
        self.notifier.open_dialog(TagManager(self.session, self.runner, self))

    def show_shortcuts(self) -> None:
        self.notifier.open_dialog(ShortcutSheet(self))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile() and Path(urls[0].toLocalFile()).is_dir():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.open_library(Path(event.mimeData().urls()[0].toLocalFile()))

    def closeEvent(self, event: Any) -> None:
        save_settings(self.settings, self, self.splitter, self.side, self.filter_bar.zoom)
        self.close_library()
        super().closeEvent(event)


class _NullCache:
    """The delegate's cache before a library is open."""

    def pixmap(self, photo_id: int) -> None:
        return None
