"""The main window's menu bar: every action, its shortcut and its object name. The window
hands in the slots by action name; the actions come back for it to update later."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction, QKeySequence, QUndoGroup
from PySide6.QtWidgets import QMainWindow, QMenu

Key = QKeySequence.StandardKey
# (menu, text, object name = the slot's name, shortcut); None: a separator
MENUS: tuple[tuple[str, tuple[tuple[str, str, Any] | None, ...]], ...] = (
    ("&File", (
        ("&Open Folder\u2026", "open", Key.Open),
        ("&Export CSV\u2026", "export", "Ctrl+E"),
        ("&Import tags\u2026", "importTags", "Ctrl+I"),
        ("Export &XMP sidecars (confirmed tags only)\u2026", "exportSidecars", None),
        ("Re-&index", "reindex", "Ctrl+R"),
        None,
        ("&Quit", "quit", Key.Quit),
    )),
    ("&Edit", (
        ("&Find", "find", Key.Find),
        ("Refresh", "refresh", "F5"),
    )),
    ("&Review", (
        ("&Accept all suggestions", "acceptAll", "A"),
        ("&Reject first suggestion", "reject", "R"),
        ("Add a &tag\u2026", "addTag", "T"),
    )),
    ("&Tags", (
        ("Tag &manager\u2026", "tagManager", "Ctrl+Shift+T"),
        ("&Retrain suggestions", "retrain", None),
        ("Training &report\u2026", "trainingReport", None),
        ("Roll &back the last training", "rollback", None),
        ("", "autoRetrain", None),  # checkable; its text says N
        ("Auto-retrain &after\u2026", "autoRetrainAfter", None),
        ("Suggestion &thresholds\u2026", "thresholdPolicy", None),
    )),
    ("&Help", (
        ("&Keyboard shortcuts", "shortcuts", Key.HelpContents),
    )),
)


@dataclass
class Menus:
    actions: dict[str, QAction]  # by object name
    recent: QMenu  # File › Open Recent, filled by window_settings.RecentFolders


def add_action(parent: QMainWindow, menu: QMenu, text: str, slot: Callable[..., Any], shortcut: Any = None,
               name: str = "") -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
    action.triggered.connect(slot)
    action.setObjectName(name or text)
    menu.addAction(action)
    return action


def build_menus(window: QMainWindow, undo_group: QUndoGroup, slots: Mapping[str, Callable[..., Any]],
                accept_nth: Callable[[int], Any]) -> Menus:
    """`slots`: an action's object name -> what it triggers; `accept_nth(n)` for keys 1-9."""
    actions: dict[str, QAction] = {}
    menus: dict[str, QMenu] = {}
    for title, items in MENUS:
        menu = menus[title] = window.menuBar().addMenu(title)
        for item in items:
            if item is None:
                menu.addSeparator()
                continue
            text, name, shortcut = item
            actions[name] = add_action(window, menu, text, slots[name], shortcut, name)
    file, edit, review = menus["&File"], menus["&Edit"], menus["&Review"]
    recent = QMenu("Open &Recent", file)
    file.insertMenu(actions["export"], recent)
    undo = undo_group.createUndoAction(window, "&Undo")
    undo.setShortcut(Key.Undo)
    redo = undo_group.createRedoAction(window, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    undo.setObjectName("undo")
    redo.setObjectName("redo")
    edit.insertActions(actions["find"], [undo, redo])
    edit.insertSeparator(actions["find"])
    numbers = QMenu("Accept suggestion &N", review)
    review.addMenu(numbers)
    for n in range(1, 10):
        add_action(window, numbers, f"Suggestion {n}", lambda _=False, n=n: accept_nth(n), str(n), f"accept{n}")
    review.addSeparator()
    add_action(window, review, "Show the review &queue", slots["queue"], None, "queue")
    actions["autoRetrain"].setCheckable(True)
    return Menus(actions, recent)
