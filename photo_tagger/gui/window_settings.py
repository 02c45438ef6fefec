"""What the main window keeps in QSettings between runs: geometry, splitter states, zoom
and the recent libraries (with the File › Open Recent menu built from them)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QMenu, QSlider, QSplitter

MAX_RECENT = 8
DEFAULT_PANEL_WIDTH = 400


class RecentFolders(QObject):
    """The libraries opened last, newest first, and the menu that offers them."""

    chosen = Signal(Path)

    def __init__(self, settings: QSettings, menu: QMenu) -> None:
        super().__init__(menu)
        self._settings, self._menu = settings, menu
        self._update_menu()

    def paths(self) -> list[str]:
        value = self._settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def remember(self, root: Path) -> None:
        items = [str(root)] + [p for p in self.paths() if p != str(root)]
        self._settings.setValue("recent", items[:MAX_RECENT])
        self._update_menu()

    def _update_menu(self) -> None:
        self._menu.clear()
        for path in self.paths():
            action = self._menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.chosen.emit(Path(p)))
        self._menu.setEnabled(bool(self.paths()))


def restore_settings(settings: QSettings, window: QMainWindow, splitter: QSplitter, side: QSplitter,
                     zoom: QSlider) -> None:
    if not isinstance(settings.value("geometry"), QByteArray):
        _default_geometry(window)
    if not isinstance(settings.value("splitter"), QByteArray):
        _default_split(window, splitter)
    for key, restore in (("geometry", window.restoreGeometry), ("splitter", splitter.restoreState),
                         ("side", side.restoreState)):
        value = settings.value(key)
        if isinstance(value, QByteArray):
            restore(value)
    value = settings.value("zoom")
    if value is not None:
        zoom.setValue(int(value))  # type: ignore[call-overload]


def save_settings(settings: QSettings, window: QMainWindow, splitter: QSplitter, side: QSplitter,
                  zoom: QSlider) -> None:
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("splitter", splitter.saveState())
    settings.setValue("side", side.saveState())
    settings.setValue("zoom", zoom.value())


def _default_geometry(window: QMainWindow) -> None:
    """First run: most of the screen, centred (Qt's default is the widgets' minimum)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(1280, 800)
        return
    area = screen.availableGeometry()
    window.resize(int(area.width() * 0.85), int(area.height() * 0.85))
    window.move(area.center() - window.rect().center())


def _default_split(window: QMainWindow, splitter: QSplitter) -> None:
    """First run: the tag panel wide enough to read a tag's path and its count (the grid
    takes the rest, and what the window gains later)."""
    width = max(window.width(), 1000)
    side = max(DEFAULT_PANEL_WIDTH, width * 3 // 10)
    splitter.setSizes([width - side, side])
