"""The selected photo, large: the cached thumbnail at once, then the file itself decoded in
the io pool by `core.imaging` (EXIF orientation applied, scaled while decoding), plus name,
size and date."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

import shiboken6
from PIL import Image
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from photo_tagger.core import imaging
from photo_tagger.core.browse import PhotoInfo
from photo_tagger.core.decode_pool import CallTimedOut, DecodePool, PoolStalled
from photo_tagger.core.errors import UserError
from photo_tagger.gui.op_runner import Op, io_pool

MAX_SIDE = 1600
DISPLAY_TIMEOUT_S = 20.0


def read_scaled(path: Path, max_side: int = MAX_SIDE, fit: QSize | None = None) -> QImage:
    """Decode `path` at most `max_side` px on its long side and, if `fit` is given, no larger
    than needed to fill it, upright. Runs in a worker: the GUI thread then paints the
    picture at its own size, with no scaling of its own. The decode is `core.imaging`'s (HEIC,
    the regular-file guard, the pixel caps), in the display pool, which gives up on a file
    that takes longer than `DISPLAY_TIMEOUT_S` (a stalled network drive)."""
    box = QSize(max_side, max_side) if fit is None else fit.boundedTo(QSize(max_side, max_side))
    pool = _display_pool()
    task = pool.submit(lambda: imaging.decode_for_display(path, (box.width(), box.height())))
    try:
        return to_qimage(pool.result(task))
    except imaging.PhotoDecodeError as exc:
        raise UserError(f"{path.name}: {exc}") from exc
    except (CallTimedOut, PoolStalled) as exc:
        raise UserError(f"{path.name}: took longer than {pool.timeout_s:g} s to read (a stalled drive?)") from exc


def to_qimage(image: Image.Image) -> QImage:
    """An RGB Pillow image as a QImage that owns its pixels."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = rgb.size
    return QImage(rgb.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def _display_pool() -> DecodePool:
    global _pool
    if _pool is None:
        _pool = DecodePool(2, DISPLAY_TIMEOUT_S, name="display")
    return _pool


_pool: DecodePool | None = None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def describe(info: PhotoInfo) -> str:
    parts = [info.path]
    if info.width and info.height:
        parts.append(f"{info.width} \u00d7 {info.height}")
    parts.append(human_size(info.size))
    if info.taken_at:
        parts.append(info.taken_at.replace("T", " "))
    else:
        parts.append(datetime.fromtimestamp(info.mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M") + " (file date)")
    return "  \u00b7  ".join(parts)


class _Picture(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.pixmap: QPixmap | None = None
        self.message = ""
        self._scaled: QPixmap | None = None  # `pixmap` at the size last painted
        self._scaled_from: QPixmap | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)

    def paintEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self.pixmap is not None and not self.pixmap.isNull():
            size = self.pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            if size.width() > self.pixmap.width() * 2:  # never blow a small picture up past 2x
                size = self.pixmap.size() * 2
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(self.rect().center())
            painter.drawPixmap(target, self._at_size(size))
        elif self.message:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(12, 0, -12, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)


    def _at_size(self, size: QSize) -> QPixmap:
        """The picture smoothly scaled to `size`, cached: a smooth scale of a large photo in
        every paint event cost tens of milliseconds of the GUI thread."""
        assert self.pixmap is not None
        if self.pixmap.size() == size:
            return self.pixmap
        if self._scaled is None or self._scaled_from is not self.pixmap or self._scaled.size() != size:
            self._scaled = self.pixmap.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation)
            self._scaled_from = self.pixmap
        return self._scaled


class PreviewPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = _Picture()
        self.caption = QLabel()
        self.caption.setObjectName("previewCaption")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)
        self._token = 0
        self._loading: set[Op] = set()
        self.show_photo(None, None, None)

    def show_photo(self, root: Path | None, info: PhotoInfo | None, thumbnail: QPixmap | None) -> None:
        self._token += 1
        self.picture.pixmap = thumbnail
        if info is None:
            self.picture.message = "Select a photo to see it here."
            self.caption.setText("")
        else:
            self.caption.setText(describe(info))
            self.caption.setToolTip(self.caption.text())
            self.picture.message = {
                "error": f"Cannot show this photo:\n{info.error or 'unknown error'}",
                "missing": "The file is missing: moved or deleted outside photo-tagger. Its tags are kept.",
                "pending": "Waiting to be indexed\u2026",
            }.get(info.status, "")
            if root is not None and info.status in ("ok", "pending") and not self.isHidden():  # the viewer's on
                self._load(root / info.path, self._token)
        self.picture.update()

    def _load(self, path: Path, token: int) -> None:
        fit = self.picture.size() * self.picture.devicePixelRatio()
        op = Op(partial(read_scaled, path, fit=fit))

        # The op outlives a closed window: its result must not touch a deleted widget.
        def done(image: QImage) -> None:
            if token == self._token and shiboken6.isValid(self.picture):
                self.picture.pixmap = QPixmap.fromImage(image)
                self.picture.update()

        def failed(message: str) -> None:
            if token == self._token and shiboken6.isValid(self.picture) and self.picture.pixmap is None:
                self.picture.message = f"Cannot show this photo:\n{message}"
                self.picture.update()

        self._loading.add(op)
        io_pool().start(op.success(done).failure(failed).on_end(lambda: self._loading.discard(op)))
