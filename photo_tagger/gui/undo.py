"""Undoable commands over the core's tagging and tag-admin functions.

The core functions write at once (one transaction each) and return exactly what they
replaced; undo hands that back to `tagging.restore_states` / `tag_admin.restore_snapshot`.
A command is pushed only after its first run succeeded, so a refused change (a bad tag
name) never lands on the stack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.tag_admin import restore_snapshot
from photo_tagger.core.tagging import restore_states

log = logging.getLogger(__name__)


class CatalogueCommand(QUndoCommand):
    """`apply(catalogue)` does the change and returns its undo data; `restore(catalogue,
    data)` undoes it. `notify(photo_ids)` tells the views (None: tags changed globally)."""

    def __init__(
        self,
        text: str,
        catalogue: Catalogue,
        apply: Callable[[Catalogue], Any],
        restore: Callable[[Catalogue, Any], None],
        undo_data: Any,
        notify: Callable[[Sequence[int] | None], None],
        photo_ids: Sequence[int] | None,
    ) -> None:
        super().__init__(text)
        self._catalogue = catalogue
        self._apply, self._restore, self._notify = apply, restore, notify
        self._undo_data = undo_data
        self._photo_ids = photo_ids
        self._first = True

    def redo(self) -> None:
        if self._first:  # already applied before the push
            self._first = False
        else:
            try:
                self._undo_data = self._apply(self._catalogue)
            except Exception:
                log.exception("redo of %r failed", self.text())
        self._notify(self._photo_ids)

    def undo(self) -> None:
        try:
            self._restore(self._catalogue, self._undo_data)
        except Exception:
            log.exception("undo of %r failed", self.text())
        self._notify(self._photo_ids)


def tag_command(text: str, catalogue: Catalogue, apply: Callable[[Catalogue], Any], undo_data: Any,
                notify: Callable[[Sequence[int] | None], None], photo_ids: Sequence[int]) -> CatalogueCommand:
    return CatalogueCommand(text, catalogue, apply, restore_states, undo_data, notify, list(photo_ids))


def admin_command(text: str, catalogue: Catalogue, apply: Callable[[Catalogue], Any], undo_data: Any,
                  notify: Callable[[Sequence[int] | None], None]) -> CatalogueCommand:
    return CatalogueCommand(text, catalogue, apply, restore_snapshot, undo_data, notify, None)
