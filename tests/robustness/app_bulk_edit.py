"""The real app applying bulk edits, for the kill and one-writer harnesses.

    python app_bulk_edit.py LIBRARY STEPS PREFIX SETTINGS.ini [add|mixed]

Starts the app offscreen on LIBRARY (no indexing), selects every photo in the grid with
Ctrl+A and then, as a user would, step by step:

- add steps: T opens the add-tag field, type `bulk-PREFIX-<i>`, Return;
- with `mixed`, every third step from the second on, while the panel offers a
  suggestion, R rejects the first one, and every third from the third, 1 accepts it
  (else the step adds a tag). Both act where the tag is suggested, so the parent must
  suggest it on every photo for the step to be checked as "on every selected photo".

The app queues each change to its writer thread, one transaction per change
(`LibrarySession`, catalogue_writer.py), so the key press returns at once and the commit
follows. Only after a separate read connection sees it on every selected photo (see
`reviewed`, polled while the event loop runs) does this print `committed <i>
<confirmed|rejected> <tag>`; the parent may kill this process at any moment and knows
exactly which steps were committed. Prints `ready <photo ids>` once the selection is
made. Anything unexpected (a step not whole on the selection, a refused change) is
printed as `error ...` and ends the process with status 1.

Drives the window only through objectNames, public widgets, QActions and key presses.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit, QListView  # noqa: E402

from photo_tagger.core.library import Library  # noqa: E402
from photo_tagger.gui.app import make_app  # noqa: E402
from photo_tagger.gui.main_window import MainWindow  # noqa: E402

WAIT_MS = 120_000  # for the window to show up; generous: the machine may be busy


def fail(message: str) -> None:
    print(f"error {message}", flush=True)
    sys.exit(1)


def start(root: Path, settings: Path) -> MainWindow:
    make_app()
    window = MainWindow(QSettings(str(settings), QSettings.Format.IniFormat))
    window.resize(1200, 800)
    window.show()
    window.activateWindow()
    if not QTest.qWaitForWindowExposed(window, WAIT_MS):
        fail("the window was never shown")
    if not window.open_library(root, index=False):
        fail(f"cannot open {root}")
    return window


def select_all(window: MainWindow) -> list[int]:
    grid = window.findChild(QListView, "grid")
    grid.setFocus()
    QTest.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()  # the panel follows the selection once per event-loop pass
    return sorted(window.selected_ids())


def add_tag(window: MainWindow, name: str) -> None:
    if QApplication.activeWindow() is not window:
        # The offscreen platform hands activation to the add field's completer popup when
        # it opens while typing and does not give it back when it closes; a user's window
        # manager does. Without it, T cannot focus anything.
        window.activateWindow()
        QApplication.processEvents()
    window.findChild(QAction, "addTag").trigger()  # what T does
    field = window.findChild(QLineEdit, "addTag")
    if not field.hasFocus():
        fail("T did not focus the add-tag field")
    QTest.keyClicks(field, name)
    QTest.keyClick(field, Qt.Key.Key_Return)


def answer_first(window: MainWindow, key: Qt.Key) -> str | None:
    """`key` (R rejects, 1 accepts) on the grid; the name of the suggestion it answers,
    None when there is none."""
    tags = window.panel.tags
    if tags is None or not tags.candidates:
        return None
    name = tags.candidates[0].name
    grid = window.findChild(QListView, "grid")
    grid.setFocus()
    QTest.keyClick(grid, key)
    return name


def reviewed(reader: sqlite3.Connection, name: str) -> set[int]:
    """Photos the user has an opinion on tag `name` for. Either state: a concurrent import
    (the one-writer test) may turn a confirmed tag into a rejected one; the parent checks
    the exact states when nothing else writes."""
    return {pid for (pid,) in reader.execute(
        "SELECT pt.photo_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id"
        " WHERE t.name = ? AND pt.state IN ('confirmed', 'rejected')", (name,))}


def committed(window: MainWindow, reader: sqlite3.Connection, name: str, selected: set[int],
              timeout_s: float = 60.0) -> set[int]:
    """`reviewed` once the step is on every selected photo, or when `timeout_s` is up (a
    concurrent writer may hold the lock for a while); the event loop runs meanwhile, so the
    window takes the writer's results (undo stack, panel) as it would for a user."""
    deadline = time.monotonic() + timeout_s
    while True:
        have = reviewed(reader, name)
        if selected <= have or time.monotonic() > deadline:
            window.session.settle(timeout_s)  # and the panel shows it before the next key
            QApplication.processEvents()
            return have
        QApplication.processEvents()
        time.sleep(0.005)


def main(root: Path, steps: int, prefix: str, settings: Path, mode: str = "add") -> None:
    window = start(root, settings)
    selected = select_all(window)
    if not selected:
        fail("nothing selected")
    reader = sqlite3.connect(f"file:{Library.open(root).catalogue_path}?mode=ro", uri=True, timeout=60)
    print("ready " + " ".join(map(str, selected)), flush=True)
    for step in range(steps):
        name, state = None, ""
        if mode == "mixed" and step % 3:
            state = "rejected" if step % 3 == 1 else "confirmed"
            name = answer_first(window, Qt.Key.Key_R if state == "rejected" else Qt.Key.Key_1)
        if name is None:
            name, state = f"bulk-{prefix}-{step}", "confirmed"
            add_tag(window, name)
        have = committed(window, reader, name, set(selected))
        if not set(selected) <= have:
            fail(f"step {step} ({state} {name}) reached {len(have & set(selected))} of {len(selected)} photos;"
                 f" the app says: {window.statusBar().currentMessage()!r}")
        print(f"committed {step} {state} {name}", flush=True)
    reader.close()
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), *sys.argv[5:6])
