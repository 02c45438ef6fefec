"""The main window: grid, preview and tag panel; opening a library; the selection and
refreshing. It presents and dispatches: queries are `core.browse`, changes go through
`LibrarySession` (undoable), long jobs through `JobRunner`. Menus are built in `menus`,
the widgets' arrangement in `window_layout`, library-wide jobs in `library_jobs`, what is
kept between runs in `window_settings`, the review queue's order in `review_order`,
re-reading the catalogue while a job writes to it in `catalogue_poll`, what the preview and
tag panel show for the selection in `selection_display`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QUndoGroup
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QSplitter, QStackedWidget

from photo_tagger.core import browse, tag_names
from photo_tagger.core.errors import UserError
from photo_tagger.core.library import Library
from photo_tagger.core.store import photos, tags
from photo_tagger.gui import selection_display, window_settings
from photo_tagger.gui.catalogue_poll import CataloguePoll
from photo_tagger.gui.filter_bar import FilterBar
from photo_tagger.gui.grid_model import PhotoGridModel
from photo_tagger.gui.grid_view import PhotoGridView
from photo_tagger.gui.jobs import JobRunner
from photo_tagger.gui.library_jobs import LibraryJobs
from photo_tagger.gui.menus import build_menus
from photo_tagger.gui.preview import PreviewPane
from photo_tagger.gui.review_order import ReviewOrder
from photo_tagger.gui.session import LibrarySession
from photo_tagger.gui.shortcuts import ShortcutSheet
from photo_tagger.gui.tag_manager import TagManager
from photo_tagger.gui.tag_panel import TagPanel
from photo_tagger.gui.thumb_delegate import ThumbDelegate
from photo_tagger.gui.thumbnails import ThumbnailCache
from photo_tagger.gui.viewer import PhotoViewer
from photo_tagger.gui.window_layout import build_layout
from photo_tagger.gui.workers import CallWorker, job_pool

POLL_MS = 400  # at most this often, re-read the catalogue while a job writes to it


class MainWindow(QMainWindow):
    recent_menu: QMenu  # set by menus.build_menus
    auto_retrain_action: QAction  # set by menus.build_menus
    welcome: QLabel  # these five are set by window_layout.build_layout
    banner: QLabel
    stack: QStackedWidget
    side: QSplitter
    splitter: QSplitter

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.session: LibrarySession | None = None
        self._tag_list_version: tuple[int, int] | None = None  # of the tag names shown
        self.thumbs: ThumbnailCache | None = None
        self._workers: set[CallWorker] = set()
        self.train_in_child_process = True  # tests run a stand-in trainer in a thread
        self.export_in_child_process = True  # sidecar export: XML work off the GUI process's GIL
        self.review_order = ReviewOrder(self)
        self.catalogue_poll = CataloguePoll(self)
        self.data_version = -1  # the catalogue's PRAGMA data_version when last read
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
        self.jobs = JobRunner(self.statusBar())
        # A job reads the catalogue from its own connection: the edits queued before it first
        # (waited for in the job's pool thread, not here).
        self.jobs.wait_first = lambda: self.session.settle() if self.session is not None else None
        self.library_jobs = LibraryJobs(self)
        build_layout(self)
        build_menus(self)
        window_settings.update_recent_menu(self)
        self._connect()
        self.viewer = PhotoViewer(self)  # Space or a double-click on the grid
        self._selection_timer = QTimer(self, singleShot=True, interval=0)
        self._selection_timer.timeout.connect(self._show_selection)
        self._poll = QTimer(self, singleShot=True, interval=POLL_MS)
        self._poll.timeout.connect(self.catalogue_poll.poll)
        self._folder_check = QTimer(self, interval=3000)
        self._folder_check.timeout.connect(self.check_folder)
        window_settings.restore_settings(self)

    # -- building ---------------------------------------------------------------------
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
        self.jobs.progress.connect(lambda _p: self._poll.isActive() or self._poll.start())
        self.jobs.finished.connect(self.library_jobs.job_finished)
        self.jobs.failed.connect(self.library_jobs.job_failed)
        self.jobs.cancelled.connect(self.library_jobs.job_cancelled)

    def _zoom(self, size: int) -> None:
        if self.thumbs is not None:
            self.thumbs.set_size(size)
        self.grid.set_thumb_size(size)

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
            self.show_error(message, modal_box=True)
            return False
        self.close_library()
        self.session = LibrarySession(library, self)
        self.session.photos_changed.connect(self._photos_changed)
        self.session.tags_changed.connect(self._tags_changed)
        self.session.error.connect(self.show_error)
        self.session.corrected.connect(self.maybe_auto_retrain)
        self.undo_group.addStack(self.session.undo_stack)
        self.undo_group.setActiveStack(self.session.undo_stack)
        self.thumbs = ThumbnailCache(library, parent=self)
        self.thumbs.set_size(self.filter_bar.zoom.value())
        self.thumbs.ready.connect(self._thumbnail_ready)
        self.delegate.cache = self.thumbs
        self.model.set_catalogue(self.session.catalogue)
        self.stack.setCurrentWidget(self.grid)
        self.banner.hide()
        self.setWindowTitle(f"{library.root.name} \u2014 photo-tagger")
        window_settings.remember_recent(self, library.root)
        self._update_tag_names()
        self.refresh()
        if self.model.rowCount():
            self.grid.setCurrentIndex(self.model.index(0))
        self.grid.setFocus()
        self._folder_check.start()
        if index:
            self.start_indexing()
        return True

    def close_library(self) -> None:
        self.jobs.wait()
        self._folder_check.stop()
        if self.session is not None:
            self.undo_group.removeStack(self.session.undo_stack)
            self.session.close()
            self.session.deleteLater()
            self.session = None
        self.model.set_catalogue(None)
        self.catalogue_poll.forget()
        self.forget_review_order()
        self.delegate.cache = _NullCache()  # type: ignore[assignment]
        self.thumbs = None

    def start_indexing(self) -> None:
        self.library_jobs.start_indexing()

    def check_folder(self) -> None:
        """A folder that vanishes (unplugged drive, deleted) gets a clear message."""
        if self.session is None:
            return
        root = self.session.library.root
        if root.is_dir():
            if self.banner.isVisible():
                self.banner.hide()
                self.start_indexing()
            return
        if not self.banner.isVisible():
            self.jobs.cancel()
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
        self.data_version = photos.data_version(self.session.catalogue)
        if not self.show_ids(ids, flt):
            self.model.invalidate()
        selection_display.show_tags(self)
        self.update_counts(len(ids), photos.library_counts(self.session.catalogue))

    def show_ids(self, ids: list[int], flt: browse.BrowseFilter) -> bool:
        """Show `ids` (the review queue in its order); returns whether the list changed."""
        if flt.show == "review" and flt.sort == "name":
            ids = self.review_order.order(ids)
        elif self.review_order.rank is not None:
            self.forget_review_order()  # left the queue: rank afresh when it is shown again
        selected, current = self.selected_ids(), self.current_id()
        current_row = self.grid.currentIndex().row()
        if not self.model.set_ids(ids):
            return False
        self._restore_selection(selected, current, current_row)
        self._selection_changed()  # a reset model says nothing: the preview follows here
        return True

    def forget_review_order(self) -> None:
        self.review_order.forget()

    def update_counts(self, shown: int, by_status: dict[str, int]) -> None:
        parts = [f"{shown:,} shown", f"{by_status.get('ok', 0):,} indexed"]
        for status, label in (("pending", "waiting"), ("error", "unreadable"), ("missing", "missing")):
            if by_status.get(status):
                parts.append(f"{by_status[status]:,} {label}")
        self.counts.setText("  \u00b7  ".join(parts))

    def poll_catalogue(self) -> None:
        """Refresh now if another connection committed (a job's end; while it runs the
        catalogue is re-read in the background, see `catalogue_poll`)."""
        if self.session is None:
            return
        if photos.data_version(self.session.catalogue) != self.data_version:
            if self.thumbs is not None:
                self.thumbs.forget_absent()
            self.refresh()

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
            selection_display.show_preview(self)

    def _photos_changed(self, ids: list[int]) -> None:
        self.catalogue_poll.forget()
        self.model.invalidate(ids)
        selection_display.show_tags(self)
        self._update_tag_names(unless_unchanged=True)  # adding a tag by name creates it

    def _tags_changed(self) -> None:
        self._update_tag_names()
        self.refresh()

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
        selection_display.show_preview(self)
        selection_display.show_tags(self)

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

    def show_error(self, message: str, modal_box: bool = False) -> None:
        """A user error: the status bar, and a box that does not block (never a traceback)."""
        self.statusBar().showMessage(message, 8000)
        if modal_box or not self.panel.isVisible():
            box = QMessageBox(QMessageBox.Icon.Warning, "photo-tagger", message, QMessageBox.StandardButton.Ok, self)
            box.setObjectName("errorBox")
            self.open_dialog(box)
        else:
            self.panel.show_message(message)

    # -- library jobs (see `library_jobs`) -------------------------------------------------
    def export_csv(self, out: Path | None = None) -> None:
        self.library_jobs.export_csv(out)

    def export_sidecars(self) -> None:
        self.library_jobs.export_sidecars()

    def retrain(self) -> None:
        self.library_jobs.retrain()

    def auto_retrain_enabled(self) -> bool:
        return self.library_jobs.auto_retrain_enabled()

    def auto_retrain_after(self) -> int:
        return self.library_jobs.auto_retrain_after()

    def set_auto_retrain(self, enabled: bool, after: int | None = None) -> None:
        self.library_jobs.set_auto_retrain(enabled, after)

    def ask_auto_retrain_after(self) -> None:
        self.library_jobs.ask_auto_retrain_after()

    def maybe_auto_retrain(self, count: int | None) -> bool:
        return self.library_jobs.maybe_auto_retrain(count)

    def run_call(self, fn: Any, done: Any) -> CallWorker:
        """Run `fn` in the job pool, after the tag edits queued so far are committed (an
        export started right after an edit must contain it); the wait is in the pool."""
        session = self.session

        def after_queued_edits() -> Any:
            if session is not None:
                session.settle()
            return fn()

        worker = CallWorker(after_queued_edits)
        self._workers.add(worker)
        worker.signals.finished.connect(lambda result: (self._workers.discard(worker), done(result)))
        worker.signals.failed.connect(lambda message: (self._workers.discard(worker), self.show_error(message, True)))
        job_pool().start(worker)
        return worker

    # -- dialogs, recent folders, drag and drop, closing -----------------------------------
    def open_tag_manager(self) -> None:
        if self.session is None:
            self.show_error("Open a folder first.", modal_box=True)
            return
        self.open_dialog(TagManager(self.session, self))

    def show_shortcuts(self) -> None:
        self.open_dialog(ShortcutSheet(self))

    def open_dialog(self, dialog: QDialog) -> None:
        """Open `dialog` (deleted when closed); closed, it gives the keyboard back to the grid."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self.grid.setFocus(Qt.FocusReason.OtherFocusReason))
        dialog.open()

    def recent(self) -> list[str]:
        return window_settings.recent(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile() and Path(urls[0].toLocalFile()).is_dir():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.open_library(Path(event.mimeData().urls()[0].toLocalFile()))

    def closeEvent(self, event: Any) -> None:
        window_settings.save_settings(self)
        self.close_library()
        super().closeEvent(event)


class _NullCache:
    """The delegate's cache before a library is open."""

    def pixmap(self, photo_id: int) -> None:
        return None
