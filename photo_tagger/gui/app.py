"""Start the desktop app: `photo-tagger [PATH]` calls `run_app(PATH)`."""

from __future__ import annotations

import importlib.resources
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from photo_tagger.gui.main_window import MainWindow

ORGANIZATION = "photo-tagger"
APPLICATION = "photo-tagger"
# Python hands the GIL between threads every 5 ms by default: when the GUI thread releases it
# (a Qt call, a thread-pool start) while a background thread runs Python (thumbnail reads,
# catalogue snapshots), the event loop waits up to that long to get it back, measured as
# ~5 ms per QThreadPool.start on the GUI thread. 1 ms bounds that wait.
GIL_SWITCH_INTERVAL_S = 0.001


def dark_palette() -> QPalette:
    roles = {
        QPalette.ColorRole.Window: "#26282b",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1d1f21",
        QPalette.ColorRole.AlternateBase: "#2e3135",
        QPalette.ColorRole.ToolTipBase: "#2e3135",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8d9196",
        QPalette.ColorRole.Button: "#303338",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#3d7fd6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Mid: "#44484d",
        QPalette.ColorRole.Link: "#6ea8f0",
    }
    palette = _palette(roles)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b6f74"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b6f74"))
    return palette


def light_palette() -> QPalette:
    roles = {
        QPalette.ColorRole.Window: "#f3f3f4",
        QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#eceef1",
        QPalette.ColorRole.Text: "#1f2328",
        QPalette.ColorRole.PlaceholderText: "#7a8087",
        QPalette.ColorRole.Button: "#f7f7f8",
        QPalette.ColorRole.ButtonText: "#1f2328",
        QPalette.ColorRole.Highlight: "#2f6fd0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Mid: "#d5d8dc",
    }
    return _palette(roles)


def _palette(roles: dict[QPalette.ColorRole, str]) -> QPalette:
    palette = QPalette()
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    return palette


def wants_dark() -> bool:
    """PHOTO_TAGGER_THEME=dark|light wins; else follow the desktop's colour scheme."""
    theme = os.environ.get("PHOTO_TAGGER_THEME", "").lower()
    if theme in ("dark", "light"):
        return theme == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def style_app(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if wants_dark() else light_palette())
    try:
        qss = importlib.resources.files("photo_tagger.resources") / "app.qss"
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    except OSError:  # a missing stylesheet costs looks, not the app
        logging.getLogger(__name__).warning("app.qss not found; using the plain style")


def make_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("photo-tagger")
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    style_app(app)
    return app


def run_app(path: Path | None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = make_app()
    window = MainWindow(QSettings())
    window.show()
    if path is not None:
        QTimer.singleShot(0, lambda: window.open_library(Path(path)))
    return app.exec()
