"""Undoable commands over the core's tagging and tag-admin functions.

The core functions write in one transaction each and return exactly what they replaced;
undo hands that back to `store.opinions.restore_states` / `store.tags.restore_snapshot`. A command
is pushed only after its first run succeeded, so a refused change (a bad tag name) never
lands on the stack. Undo and redo go through the session's `run`, which writes in order
with every other change (tag edits on the writer thread, see catalogue_writer.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

from photo_tagger.core.changes import Changes
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.store.opinions import restore_states
from photo_tagger.core.store.tags import restore_snapshot

# run(job, done): job(catalogue) is written in order with all other changes, then done(result)
Run = Callable[[Callable[[Catalogue], Any], Callable[[Any], None]], None]


class CatalogueCommand(QUndoCommand):
    """`apply(catalogue)` does the change and returns its undo data; `restore(catalogue,
    data)` undoes it. `notify(changes)` tells the views what it touched, each way."""

    def __init__(
        self,
        text: str,
        run: Run,
        apply: Callable[[Catalogue], Any],
        restore: Callable[[Catalogue, Any], None],
        undo_data: Any,
        notify: Callable[[Changes], None],
        changes: Changes,
    ) -> None:
        super().__init__(text)
        self._run = run
        self._apply, self._restore, self._notify = apply, restore, notify
        self._undo_data = undo_data
        self._changes = changes
        self._first = True

    def redo(self) -> None:
        if self._first:  # already applied before the push
            self._first = False
            self._notify(self._changes)
            return

        def job(catalogue: Catalogue) -> None:
            # Set where it runs: an undo queued right behind this redo reads it there.
            self._undo_data = self._apply(catalogue)

        self._run(job, self._changed)

    def undo(self) -> None:
        self._run(lambda catalogue: self._restore(catalogue, self._undo_data), self._changed)

    def _changed(self, _result: Any = None) -> None:
        self._notify(self._changes)


def tag_command(text: str, run: Run, apply: Callable[[Catalogue], Any], undo_data: Any,
                notify: Callable[[Changes], None], changes: Changes) -> CatalogueCommand:
    return CatalogueCommand(text, run, apply, restore_states, undo_data, notify, changes)


def admin_command(text: str, run: Run, apply: Callable[[Catalogue], Any], undo_data: Any,
                  notify: Callable[[Changes], None]) -> CatalogueCommand:
    """A tag renamed, merged, deleted or re-thresholded: any photo may show it."""
    return CatalogueCommand(text, run, apply, restore_snapshot, undo_data, notify, Changes.of_everything())
