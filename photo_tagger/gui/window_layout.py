"""How the main window's widgets are arranged: the filter bar, a banner and the grid (or the
welcome text before a library is open) on the left; the preview above the tag panel on the
right, in splitters whose states `window_settings` keeps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow


def build_layout(window: MainWindow) -> None:
    """Sets `window.welcome`, `banner`, `stack`, `side` and `splitter`."""
    w = window
    w.welcome = QLabel("Open a folder of photos to start:\n"
                       "File \u203a Open Folder (Ctrl+O), or drop a folder here.")
    w.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
    w.welcome.setObjectName("welcome")
    w.banner = QLabel()
    w.banner.setObjectName("banner")
    w.banner.setWordWrap(True)
    w.banner.hide()
    w.stack = QStackedWidget()
    w.stack.addWidget(w.welcome)
    w.stack.addWidget(w.grid)
    left = QWidget()
    column = QVBoxLayout(left)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(w.filter_bar)
    column.addWidget(w.banner)
    column.addWidget(w.stack, 1)
    w.side = QSplitter(Qt.Orientation.Vertical)
    w.side.addWidget(w.preview)
    w.side.addWidget(w.panel)
    w.side.setSizes([320, 420])
    w.splitter = QSplitter(Qt.Orientation.Horizontal)
    w.splitter.addWidget(left)
    w.splitter.addWidget(w.side)
    w.splitter.setStretchFactor(0, 1)  # a wider window widens the grid; the panel keeps its width
    w.splitter.setStretchFactor(1, 0)
    w.splitter.setChildrenCollapsible(False)
    w.splitter.setSizes([900, 400])  # window_settings sets the first run's and restores the user's
    w.setCentralWidget(w.splitter)
    w.grid.set_thumb_size(w.filter_bar.zoom.value())
