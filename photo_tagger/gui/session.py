"""An open library in the app: its GUI-thread catalogue connection (for reads), the writer
that commits the user's changes, its undo stack, and every tag change the user can make,
dispatched to the core as an undoable command.

Every change is queued to the writer thread (catalogue_writer.py), in order: a commit
waits for the disk and for any other writer's lock, and the GUI thread must not. That
holds for the tag manager's changes too (merging or deleting a tag rewrites the rows of
all its photos); a refused one (the name is taken) comes back through `error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from photo_tagger.core import browse, service, tag_admin, tag_names, tagging
from photo_tagger.core.changes import Changes
from photo_tagger.core.errors import UserError
from photo_tagger.core.library import Library
from photo_tagger.core.store import heads, opinions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.taxonomy import validate_tag_name
from photo_tagger.gui.catalogue_writer import CatalogueWriter
from photo_tagger.gui.undo import admin_command, tag_command

log = logging.getLogger(__name__)


class LibrarySession(QObject):
    changed = Signal(object)  # the `Changes` of a change written, undone or redone
    error = Signal(str)  # a user error, shown as a message
    # the user changed tags on photos (a new undo command), with the corrections since the
    # last training as the writer counted them after the change (None: could not count)
    corrected = Signal(object)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.catalogue: Catalogue = library.connect()
        self.writer = CatalogueWriter(library, self)
        self.undo_stack = QUndoStack(self)
        self._closed = False
        self._key: str | None = None  # the backbone's key, for the corrections count

    def close(self) -> None:
        """Writes every queued change first: closing never drops an edit."""
        self._closed = True
        self.writer.close()
        self.undo_stack.clear()
        self.catalogue.close()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until the queued changes are committed (not for the views to catch up)."""
        return self.writer.wait_idle(timeout)

    def _notify(self, changes: Changes) -> None:
        if not self._closed:
            self.changed.emit(changes)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, UserError):
            self.error.emit(str(exc))
            return
        log.error("a change could not be written", exc_info=exc)
        self.error.emit(f"The change could not be saved ({type(exc).__name__}: {exc})")

    def _write_queued(self, job: Callable[[Catalogue], Any], done: Callable[[Any], None]) -> None:
        self.writer.submit(job, lambda result: None if self._closed else done(result), self._failed)

    def _run(self, text: str, photo_ids: Sequence[int], apply: Callable[[Catalogue], Any],
             new_tags: bool = False) -> bool:
        """Queue `apply`; once written, its undo command is pushed. False: nothing to do."""
        if not photo_ids:
            return False
        ids = list(photo_ids)

        def job(catalogue: Catalogue) -> tuple[Any, int | None]:
            return apply(catalogue), self._corrections(catalogue)

        def written(result: tuple[Any, int | None]) -> None:
            before, corrections = result
            changes = Changes.of_photos(ids, new_tags=new_tags)
            self.undo_stack.push(tag_command(text, self._write_queued, apply, before, self._notify, changes))
            self.corrected.emit(corrections)

        self._write_queued(job, written)
        return True

    def _corrections(self, catalogue: Catalogue) -> int | None:
        """Read on the writer, after the edit: the GUI thread runs no query for auto-retrain."""
        try:
            return heads.corrections_since_active(catalogue, self._backbone_key())
        except Exception:  # never let the count break tagging
            log.exception("counting corrections for auto-retrain failed")
            return None

    def _backbone_key(self) -> str:
        if self._key is None:
            self._key = service.current_backbone_key()
        return self._key

    def _admin(self, text: str, apply: Callable[[Catalogue], Any]) -> None:
        """Queue a tag manager change behind the tag edits (merging or deleting a tag rewrites
        all its photos' rows: not on the GUI thread); once written, its undo command is
        pushed. A refusal (the name is taken) comes back through `error`."""
        self._write_queued(apply, lambda before: self.undo_stack.push(
            admin_command(text, self._write_queued, apply, before, self._notify)))

    @staticmethod
    def _photos(n: int) -> str:
        return "1 photo" if n == 1 else f"{n} photos"

    # -- tag changes on photos --------------------------------------------------------
    def accept_all(self, photo_ids: Sequence[int]) -> bool:
        ids = list(photo_ids)
        return self._run(f"Accept suggestions on {self._photos(len(ids))}", ids,
                         lambda c: tagging.accept_suggestions(c, ids))

    def _on_state(self, photo_ids: Sequence[int], tag: browse.TagSummary, from_state: str,
                  to_state: str | None, verb: str, min_score: float | None = None) -> bool:
        ids = opinions.photos_with(self.catalogue, photo_ids, tag.tag_id, from_state, min_score=min_score)
        return self._run(f"{verb} '{tag.name}' on {self._photos(len(ids))}", ids,
                         lambda c: tagging.set_state(c, ids, tag.tag_id, to_state))

    def accept(self, photo_ids: Sequence[int], tag: browse.TagSummary) -> bool:
        """Confirm a suggestion on the selected photos that have it suggested."""
        return self._on_state(photo_ids, tag, "suggested", "confirmed", "Accept")

    def reject(self, photo_ids: Sequence[int], tag: browse.TagSummary) -> bool:
        return self._on_state(photo_ids, tag, "suggested", "rejected", "Reject")

    def remove(self, photo_ids: Sequence[int], tag: browse.TagSummary) -> bool:
        """Take a confirmed tag off (it becomes a plain suggestion again if the model has one)."""
        return self._on_state(photo_ids, tag, "confirmed", None, "Remove")

    def unreject(self, photo_ids: Sequence[int], tag: browse.TagSummary) -> bool:
        return self._on_state(photo_ids, tag, "rejected", None, "Un-reject")

    def confirm_on_all(self, photo_ids: Sequence[int], name: str) -> bool:
        """Add tag `name` (created if new) to every photo in `photo_ids`."""
        ids = list(photo_ids)
        if not ids:
            self.error.emit("Select one or more photos first")
            return False
        try:
            clean = validate_tag_name(name)
        except ValueError as exc:
            self.error.emit(str(exc))
            return False
        try:  # a leaf name several tags share is refused here, naming them
            found = tag_names.find_tag(self.catalogue, clean, synonyms=False)
        except UserError as exc:
            self.error.emit(str(exc))
            return False
        shown = clean if found is None else tagging.tag_labels(self.catalogue)[found]
        # Created (or found) on the writer, in order with the changes queued before it.
        return self._run(f"Add '{shown}' to {self._photos(len(ids))}", ids,
                         lambda c: tagging.set_state(c, ids, tagging.ensure_tag(c, clean), "confirmed"),
                         new_tags=found is None)

    # -- the tag manager --------------------------------------------------------------
    def rename_tag(self, old: str, new: str) -> None:
        self._admin(f"Rename '{old}' to '{new.strip()}'", lambda c: tag_admin.rename_tag(c, old, new))

    def merge_tags(self, sources: Sequence[str], target: str) -> None:
        names = ", ".join(f"'{s}'" for s in sources)
        self._admin(f"Merge {names} into '{target}'", lambda c: tag_admin.merge_tags(c, sources, target))

    def delete_tag(self, name: str) -> None:
        self._admin(f"Delete tag '{name}'", lambda c: tag_admin.delete_tag(c, name))

    def set_threshold(self, name: str, value: float | None) -> None:
        text = f"Threshold of '{name}' to {'automatic' if value is None else f'{value:.2f}'}"
        self._admin(text, lambda c: tag_admin.set_threshold(c, name, value))
