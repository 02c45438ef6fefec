"""Search, show, tag filter (AND/OR), sort and thumbnail zoom, above the grid. Emits a
`BrowseFilter`; the query itself is the core's."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QHBoxLayout, QLabel, QLineEdit, QSlider, QWidget

from photo_tagger.core.browse import BrowseFilter
from photo_tagger.gui.thumbnails import DEFAULT_THUMB_SIZE

SHOW_CHOICES = [
    ("All photos", "all"),
    ("Unreviewed suggestions", "unreviewed"),
    ("Review queue (low confidence)", "review"),
    ("Untagged", "untagged"),
    ("Missing files", "missing"),
    ("Errors", "errors"),
]
SORT_CHOICES = [("Name", "name"), ("Date", "date"), ("Confidence", "confidence")]


class _TagsCompleter(QCompleter):
    """Completes the last comma-separated name in the tag filter."""

    def splitPath(self, path: str) -> list[str]:
        return [path.split(",")[-1].strip()]

    def pathFromIndex(self, index) -> str:  # type: ignore[no-untyped-def]
        widget = self.widget()
        text = widget.text() if isinstance(widget, QLineEdit) else ""
        head = [part.strip() for part in text.split(",")[:-1] if part.strip()]
        return ", ".join([*head, super().pathFromIndex(index)])


class FilterBar(QWidget):
    changed = Signal(object)  # BrowseFilter
    zoom_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search names and tags")
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Search file names and tags (Ctrl+F)")
        self.show_box = QComboBox(objectName="show")
        for text, value in SHOW_CHOICES:
            self.show_box.addItem(text, value)
        self.tags = QLineEdit(placeholderText="Tags, e.g. cat, dog")
        self.tags.setObjectName("tagFilter")
        self.tags.setClearButtonEnabled(True)
        self._names = QStringListModel(self)
        completer = _TagsCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.tags.setCompleter(completer)
        self.mode = QComboBox(objectName="tagMode")
        self.mode.addItem("all of them", "all")
        self.mode.addItem("any of them", "any")
        self.sort = QComboBox(objectName="sort")
        for text, value in SORT_CHOICES:
            self.sort.addItem(text, value)
        # Narrow minimums: the bar's minimum is the grid column's, and it must leave the tag
        # panel room beside it at the default window size (long choices show in the popup).
        self.search.setMinimumWidth(100)
        self.tags.setMinimumWidth(90)
        for box in (self.mode, self.sort):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.show_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.show_box.setMinimumContentsLength(9)
        self.zoom = QSlider(Qt.Orientation.Horizontal, objectName="zoom")
        self.zoom.setRange(96, 256)
        self.zoom.setValue(DEFAULT_THUMB_SIZE)
        self.zoom.setFixedWidth(90)
        self.zoom.setToolTip("Thumbnail size")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search, 3)
        layout.addWidget(QLabel("Show"))
        layout.addWidget(self.show_box)
        layout.addWidget(QLabel("Tags"))
        layout.addWidget(self.tags, 2)
        layout.addWidget(self.mode)
        layout.addWidget(QLabel("Sort"))
        layout.addWidget(self.sort)
        layout.addWidget(QLabel("Size"))
        layout.addWidget(self.zoom)
        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(self._emit)
        self.search.textChanged.connect(self._debounce.start)
        self.tags.textChanged.connect(self._debounce.start)
        for box in (self.show_box, self.mode, self.sort):
            box.currentIndexChanged.connect(self._emit)
        self.zoom.valueChanged.connect(self.zoom_changed)

    def set_tag_names(self, names: list[str]) -> None:
        self._names.setStringList(names)

    def current(self) -> BrowseFilter:
        names = tuple(part.strip() for part in self.tags.text().split(",") if part.strip())
        return BrowseFilter(
            show=self.show_box.currentData(),
            tags=names,
            tag_mode=self.mode.currentData(),
            search=self.search.text().strip(),
            sort=self.sort.currentData(),
        )

    def set_show(self, value: str) -> None:
        self.show_box.setCurrentIndex(max(0, self.show_box.findData(value)))

    def _emit(self) -> None:
        self._debounce.stop()
        self.changed.emit(self.current())
