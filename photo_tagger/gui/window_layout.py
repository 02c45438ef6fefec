"""How the main window's widgets are arranged: the filter bar, a banner and the grid (or the
welcome text before a library is open) on the left; the preview above the tag panel on the
right, in splitters whose states `window_settings` keeps."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget


@dataclass
class WindowLayout:
    welcome: QLabel
    banner: QLabel  # a message across the grid (the folder is gone)
    stack: QStackedWidget  # the welcome text, or the grid once a library is open
    side: QSplitter  # preview above, tag panel below
    splitter: QSplitter  # the window's central widget: left column | side


def build_layout(filter_bar: QWidget, grid: QWidget, preview: QWidget, panel: QWidget) -> WindowLayout:
    welcome = QLabel("Open a folder of photos to start:\n"
                     "File \u203a Open Folder (Ctrl+O), or drop a folder here.")
    welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
    welcome.setObjectName("welcome")
    banner = QLabel()
    banner.setObjectName("banner")
    banner.setWordWrap(True)
    banner.hide()
    stack = QStackedWidget()
    stack.addWidget(welcome)
    stack.addWidget(grid)
    left = QWidget()
    column = QVBoxLayout(left)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(filter_bar)
    column.addWidget(banner)
    column.addWidget(stack, 1)
    side = QSplitter(Qt.Orientation.Vertical)
    side.addWidget(preview)
    side.addWidget(panel)
    side.setSizes([320, 420])
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(side)
    splitter.setStretchFactor(0, 1)  # a wider window widens the grid; the panel keeps its width
    splitter.setStretchFactor(1, 0)
    splitter.setChildrenCollapsible(False)
    splitter.setSizes([900, 400])  # window_settings sets the first run's and restores the user's
    return WindowLayout(welcome, banner, stack, side, splitter)
