"""The main window's menu bar: every action, its shortcut and the slot it triggers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow


def add_action(window: MainWindow, menu: Any, text: str, slot: Any, shortcut: Any = None,
               name: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
    action.triggered.connect(slot)
    action.setObjectName(name or text)
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    """Sets `window.recent_menu` and `window.auto_retrain_action`, which the window updates later."""
    w = window
    bar = w.menuBar()
    file = bar.addMenu("&File")
    add_action(w, file, "&Open Folder\u2026", w.choose_folder, QKeySequence.StandardKey.Open, "open")
    w.recent_menu = file.addMenu("Open &Recent")
    add_action(w, file, "&Export CSV\u2026", lambda: w.export_csv(), "Ctrl+E", "export")
    add_action(w, file, "&Import tags\u2026", lambda: w.library_jobs.import_tags(), "Ctrl+I", "importTags")
    add_action(w, file, "Export &XMP sidecars (confirmed tags only)\u2026", w.export_sidecars, None,
               "exportSidecars")
    add_action(w, file, "Re-&index", w.start_indexing, "Ctrl+R", "reindex")
    file.addSeparator()
    add_action(w, file, "&Quit", w.close, QKeySequence.StandardKey.Quit, "quit")
    edit = bar.addMenu("&Edit")
    undo = w.undo_group.createUndoAction(w, "&Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = w.undo_group.createRedoAction(w, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    undo.setObjectName("undo")
    redo.setObjectName("redo")
    edit.addActions([undo, redo])
    edit.addSeparator()
    add_action(w, edit, "&Find", lambda: w.filter_bar.search.setFocus(), QKeySequence.StandardKey.Find, "find")
    add_action(w, edit, "Refresh", w.refresh, "F5", "refresh")
    review = bar.addMenu("&Review")
    add_action(w, review, "&Accept all suggestions", w.accept_all, "A", "acceptAll")
    add_action(w, review, "&Reject first suggestion", lambda: w.reject_nth(1), "R", "reject")
    add_action(w, review, "Add a &tag\u2026", w.panel.focus_add_field, "T", "addTag")
    numbers = review.addMenu("Accept suggestion &N")
    for n in range(1, 10):
        add_action(w, numbers, f"Suggestion {n}", lambda _=False, n=n: w.accept_nth(n), str(n), f"accept{n}")
    review.addSeparator()
    add_action(w, review, "Show the review &queue", lambda: w.filter_bar.set_show("review"), None, "queue")
    tags = bar.addMenu("&Tags")
    add_action(w, tags, "Tag &manager\u2026", w.open_tag_manager, "Ctrl+Shift+T", "tagManager")
    add_action(w, tags, "&Retrain suggestions", w.retrain, None, "retrain")
    add_action(w, tags, "Training &report\u2026", w.library_jobs.show_training_report, None, "trainingReport")
    add_action(w, tags, "Roll &back the last training", w.library_jobs.rollback, None, "rollback")
    w.auto_retrain_action = add_action(w, tags, "", w.library_jobs.auto_retrain_toggled, None, "autoRetrain")
    w.auto_retrain_action.setCheckable(True)
    add_action(w, tags, "Auto-retrain &after\u2026", w.ask_auto_retrain_after, None, "autoRetrainAfter")
    add_action(w, tags, "Suggestion &thresholds\u2026", w.library_jobs.ask_threshold_policy, None, "thresholdPolicy")
    help_menu = bar.addMenu("&Help")
    add_action(w, help_menu, "&Keyboard shortcuts", w.show_shortcuts, QKeySequence.StandardKey.HelpContents,
               "shortcuts")
