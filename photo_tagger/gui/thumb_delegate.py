"""Paints one grid cell: thumbnail (or a placeholder), file name, tag chips and a badge
counting the photo's unreviewed suggestions. Pure painting: data comes from the model
and the thumbnail cache."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from photo_tagger.core.browse import PhotoInfo
from photo_tagger.gui.grid_model import InfoRole, PhotoIdRole
from photo_tagger.gui.thumbnails import ThumbnailCache

PAD = 6
NAME_H = 18
CHIPS_H = 20
BADGE = QColor("#e8891c")
CONFIRMED = QColor("#2f7d4f")
SUGGESTED = QColor("#3a76c4")
ERROR_BG = QColor("#b3403a")


class ThumbDelegate(QStyledItemDelegate):
    def __init__(self, cache: ThumbnailCache, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.cache = cache
        self.thumb_size = 160

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.thumb_size + 2 * PAD, self.thumb_size + 2 * PAD + NAME_H + CHIPS_H)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        info: PhotoInfo | None = index.data(InfoRole)
        rect: QRect = option.rect.adjusted(2, 2, -2, -2)  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if selected:
            highlight = palette.color(QPalette.ColorRole.Highlight)
            fill = QColor(highlight)
            fill.setAlpha(70)
            painter.setPen(highlight)
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(rect), 6, 6)
        thumb = QRect(rect.left() + PAD - 2, rect.top() + PAD - 2, rect.width() - 2 * PAD + 4, self.thumb_size)
        self._paint_thumbnail(painter, thumb, index.data(PhotoIdRole), info, palette)
        if info is not None:
            small = QFont(option.font)  # type: ignore[attr-defined]
            small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
            painter.setFont(small)
            metrics = QFontMetrics(small)
            name_rect = QRect(rect.left() + PAD, thumb.bottom() + 3, rect.width() - 2 * PAD, NAME_H)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(name_rect, Qt.AlignmentFlag.AlignCenter,
                             metrics.elidedText(info.name, Qt.TextElideMode.ElideMiddle, name_rect.width()))
            chips = QRect(rect.left() + PAD, name_rect.bottom() + 1, rect.width() - 2 * PAD, CHIPS_H - 4)
            self._paint_chips(painter, chips, info, metrics)
        painter.restore()

    def _paint_thumbnail(self, painter: QPainter, area: QRect, photo_id: int | None, info: PhotoInfo | None,
                         palette: QPalette) -> None:
        pixmap = self.cache.pixmap(photo_id) if photo_id is not None else None
        status = info.status if info is not None else "pending"
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.size()
            if size.width() > area.width() or size.height() > area.height():  # a pixmap of the old zoom
                size = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(area.center())
            if status == "missing":
                painter.setOpacity(0.35)
            painter.drawPixmap(target, pixmap)
            painter.setOpacity(1.0)
            if status == "missing":
                self._label(painter, area, "File missing", palette.color(QPalette.ColorRole.Text))
        elif status == "error":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ERROR_BG.lighter(170) if palette.color(QPalette.ColorRole.Base).lightness() > 128
                             else ERROR_BG.darker(150))
            painter.drawRoundedRect(QRectF(area.adjusted(8, 8, -8, -8)), 4, 4)
            big = QFont(painter.font())
            big.setPointSizeF(max(big.pointSizeF(), 9.0) * 2.2)
            painter.setFont(big)
            painter.setPen(ERROR_BG)
            painter.drawText(area.adjusted(0, -14, 0, -14), Qt.AlignmentFlag.AlignCenter, "\u26a0")
            painter.setFont(QFont())
            painter.drawText(area.adjusted(0, 30, 0, 30), Qt.AlignmentFlag.AlignCenter, "Cannot read")
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(QRectF(area.adjusted(8, 8, -8, -8)), 4, 4)
            text = {"missing": "File missing", "pending": "Indexing\u2026"}.get(status, "")
            self._label(painter, area, text, palette.color(QPalette.ColorRole.PlaceholderText))
        if info is not None and info.unreviewed:
            self._badge(painter, area, info.unreviewed)

    @staticmethod
    def _label(painter: QPainter, area: QRect, text: str, color: QColor) -> None:
        painter.setPen(color)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)

    @staticmethod
    def _badge(painter: QPainter, area: QRect, count: int) -> None:
        """An orange dot with the number of suggestions waiting for a yes or no."""
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        text = str(count) if count < 100 else "99+"
        width = max(18, QFontMetrics(font).horizontalAdvance(text) + 10)
        badge = QRectF(area.right() - width - 4, area.top() + 4, width, 18)
        painter.setPen(QColor("white"))
        painter.setBrush(BADGE)
        painter.drawRoundedRect(badge, 9, 9)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    @staticmethod
    def _paint_chips(painter: QPainter, area: QRect, info: PhotoInfo, metrics: QFontMetrics) -> None:
        """Confirmed tags filled green, unreviewed suggestions outlined blue; '+N' for the rest."""
        x = area.left()
        for i, tag in enumerate(info.tags):
            name = tag
            width = metrics.horizontalAdvance(name) + 10
            rest = len(info.tags) - i
            more = f"+{rest}"
            room = area.right() - x - (metrics.horizontalAdvance(more) + 6 if rest > 1 else 0)
            if width > room:
                if i == 0 and width > area.width():  # one long tag: elide it instead of hiding it
                    name = metrics.elidedText(name, Qt.TextElideMode.ElideRight, area.width() - 10)
                    width = area.width()
                else:
                    painter.setPen(SUGGESTED)
                    painter.drawText(QRect(x, area.top(), area.right() - x, area.height()),
                                     Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, more)
                    return
            chip = QRectF(x, area.top(), width, area.height())
            confirmed = tag in info.confirmed
            painter.setPen(CONFIRMED if confirmed else SUGGESTED)
            painter.setBrush(CONFIRMED if confirmed else Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(chip.adjusted(0.5, 0.5, -0.5, -0.5), 7, 7)
            painter.setPen(QColor("white") if confirmed else SUGGESTED)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, name)
            x += width + 4
