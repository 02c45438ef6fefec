"""What the main window keeps in QSettings between runs: geometry, splitter states, zoom
and the recent libraries (with the File › Open Recent menu built from them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QGuiApplication

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow

MAX_RECENT = 8
DEFAULT_PANEL_WIDTH = 400


def recent(window: MainWindow) -> list[str]:
    value = window.settings.value("recent", [])
    return [value] if isinstance(value, str) else list(value or [])


def remember_recent(window: MainWindow, root: Path) -> None:
    items = [str(root)] + [p for p in recent(window) if p != str(root)]
    window.settings.setValue("recent", items[:MAX_RECENT])
    update_recent_menu(window)


def update_recent_menu(window: MainWindow) -> None:
    window.recent_menu.clear()
    for path in recent(window):
        action = window.recent_menu.addAction(path)
        action.triggered.connect(lambda _=False, p=path: window.open_library(Path(p)))
    window.recent_menu.setEnabled(bool(recent(window)))


def restore_settings(window: MainWindow) -> None:
    settings = window.settings
    if not isinstance(settings.value("geometry"), QByteArray):
        _default_geometry(window)
    if not isinstance(settings.value("splitter"), QByteArray):
        _default_split(window)
    for key, restore in (("geometry", window.restoreGeometry), ("splitter", window.splitter.restoreState),
                         ("side", window.side.restoreState)):
        value = settings.value(key)
        if isinstance(value, QByteArray):
            restore(value)
    window.library_jobs.update_auto_retrain_action()
    zoom = settings.value("zoom")
    if zoom is not None:
        window.filter_bar.zoom.setValue(int(zoom))  # type: ignore[call-overload]


def save_settings(window: MainWindow) -> None:
    window.settings.setValue("geometry", window.saveGeometry())
    window.settings.setValue("splitter", window.splitter.saveState())
    window.settings.setValue("side", window.side.saveState())
    window.settings.setValue("zoom", window.filter_bar.zoom.value())


def _default_geometry(window: MainWindow) -> None:
    """First run: most of the screen, centred (Qt's default is the widgets' minimum)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(1280, 800)
        return
    area = screen.availableGeometry()
    window.resize(int(area.width() * 0.85), int(area.height() * 0.85))
    window.move(area.center() - window.rect().center())


def _default_split(window: MainWindow) -> None:
    """First run: the tag panel wide enough to read a tag's path and its count (the grid
    takes the rest, and what the window gains later)."""
    width = max(window.width(), 1000)
    side = max(DEFAULT_PANEL_WIDTH, width * 3 // 10)
    window.splitter.setSizes([width - side, side])
