"""Paints one grid cell: thumbnail (or a placeholder), file name, tag chips and a badge
counting the photo's unreviewed suggestions. Pure painting: data comes from the model
and the thumbnail cache."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from photo_tagger.core.browse import PhotoInfo
from photo_tagger.core.tag_tree import PATH_SEPARATOR as TAG_PATH_SEPARATOR
from photo_tagger.gui.grid_model import InfoRole, PhotoGridModel, PhotoIdRole
from photo_tagger.gui.tag_rows import PATH_SEPARATOR
from photo_tagger.gui.thumbnails import DEFAULT_THUMB_SIZE, ThumbnailCache

PAD = 6
NAME_H = 18
CHIPS_H = 20
BADGE = QColor("#e8891c")
CONFIRMED = QColor("#2f7d4f")
SUGGESTED = QColor("#3a76c4")
SUGGESTED_ON_DARK = QColor("#7fb0ef")
WHITE = QColor("white")
MAX_CELLS = 400  # rendered cells kept (~60 MB at the default size): a few screenfuls
SELECTED = QStyle.StateFlag.State_Selected
RENDERS_PER_PASS = 8  # cells rendered per event-loop pass (~0.5 ms each); the rest next pass


class ThumbDelegate(QStyledItemDelegate):
    def __init__(self, cache: ThumbnailCache, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.cache = cache
        self.thumb_size = DEFAULT_THUMB_SIZE
        self._chips: dict[tuple, QPixmap] = {}
        self._cells: dict[int, tuple[tuple, QPixmap]] = {}
        self._small: tuple[QFont, QFont] | None = None  # photo id -> (what it shows, rendering)
        self._rendered = 0  # cells rendered in this event-loop pass
        self._deferred: list[tuple[QAbstractItemView, QPersistentModelIndex]] = []
        self._pass_end = QTimer(self, singleShot=True, interval=0)
        self._pass_end.timeout.connect(self._end_pass)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.thumb_size + 2 * PAD, self.thumb_size + 2 * PAD + NAME_H + CHIPS_H)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        """Copies a cached rendering of the whole cell (selection, thumbnail or placeholder,
        badge, name, chips). A cell is rendered again only when what it shows changes, so
        repainting a screenful while scrolling costs one pixmap copy per cell."""
        photo_id, info = self._cell_data(index)
        area: QRect = option.rect  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & SELECTED)  # type: ignore[attr-defined]
        thumbnail = self.cache.pixmap(photo_id) if photo_id is not None else None
        if thumbnail is not None and thumbnail.isNull():
            thumbnail = None
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        key = (info, thumbnail.cacheKey() if thumbnail is not None else None, area.width(), area.height(),
               self.thumb_size, selected, palette.cacheKey(), ratio)
        cached = self._cells.get(photo_id) if photo_id is not None else None
        view = option.widget  # type: ignore[attr-defined]
        if cached is None and photo_id is not None and (
                (thumbnail is None and self.cache.loading(photo_id)) or self._over_budget(None, key, view, index)):
            # A screenful never seen (a jump far down the grid): the picture now (or its frame,
            # while the thumbnail loads), the whole cell in a following pass or when the
            # thumbnail arrives, so the jump costs a few renders, not forty twice.
            self._paint_draft(painter, area, thumbnail, palette)
            return
        if cached is not None and cached[0] != key and self._over_budget(cached[0], key, view, index):
            pass  # the previous rendering for now (one pass), the new one next pass
        elif cached is None or cached[0] != key:
            self._count_render()
            cached = (key, self._render_cell(area, ratio, option.font, info, thumbnail,  # type: ignore[attr-defined]
                                             palette, selected))
        if photo_id is not None:
            self._remember(photo_id, cached)
        painter.drawPixmap(area.topLeft(), cached[1])

    def _remember(self, photo_id: int, cell: tuple[tuple, QPixmap]) -> None:
        """Least recently painted out first. (Clearing the whole cache when full made the
        next paint re-render every cell on screen at once: 20-30 ms while scrolling.)"""
        self._cells.pop(photo_id, None)
        self._cells[photo_id] = cell
        while len(self._cells) > MAX_CELLS:
            del self._cells[next(iter(self._cells))]

    @staticmethod
    def _cell_data(index: QModelIndex | QPersistentModelIndex) -> tuple[int | None, PhotoInfo | None]:
        """(photo id, info); straight from our model when it is one (index.data() costs
        a round trip through Qt and two enum conversions per role, per cell)."""
        model = index.model()
        if isinstance(model, PhotoGridModel) and 0 <= index.row() < model.rowCount():
            return model.photo_id(index.row()), model.info(index.row())
        return index.data(PhotoIdRole), index.data(InfoRole)

    def _render_cell(self, area: QRect, ratio: float, font: QFont, info: PhotoInfo | None,
                     thumbnail: QPixmap | None, palette: QPalette, selected: bool) -> QPixmap:
        cell = QPixmap(round(area.width() * ratio), round(area.height() * ratio))
        cell.setDevicePixelRatio(ratio)
        cell.fill(palette.color(QPalette.ColorRole.Base))  # opaque: copying it needs no blending
        painter = QPainter(cell)
        painter.setFont(font)
        local = QRect(0, 0, area.width(), area.height())
        self._render_frame(painter, local, info, thumbnail is None, palette, selected)
        thumb = self._thumb_rect(local)
        picture = thumb.adjusted(8, 8, -8, -8)
        if thumbnail is not None:
            picture = self._paint_thumbnail(painter, thumb, thumbnail, info, palette)
        if info is not None and info.unreviewed:
            self._badge(painter, picture, info.unreviewed, self._small_font(font))
        painter.end()
        return cell

    def _over_budget(self, old: tuple | None, new: tuple, view: object,
                     index: QModelIndex | QPersistentModelIndex) -> bool:
        """When indexing changes a screenful of cells at once, or the view jumps to rows
        never shown, rendering all of them in one paint would stall the event loop for
        20-50 ms: past RENDERS_PER_PASS in a pass, a cell whose stale rendering has the same
        geometry keeps it for one more pass (a cell without one gets a draft), and is
        repainted right after."""
        if self._rendered < RENDERS_PER_PASS:
            return False
        if old is not None and (old[2:5] != new[2:5] or old[7] != new[7]):
            return False
        if not isinstance(view, QAbstractItemView):
            return False
        self._deferred.append((view, QPersistentModelIndex(index)))
        self._pass_end.start()
        return True

    def _count_render(self) -> None:
        self._rendered += 1
        self._pass_end.start()

    def _end_pass(self) -> None:
        self._rendered = 0
        deferred, self._deferred = self._deferred, []
        for view, index in deferred:
            if index.isValid() and view.model() is index.model():
                view.update(view.model().index(index.row(), index.column()))

    def _paint_draft(self, painter: QPainter, area: QRect, thumbnail: QPixmap | None, palette: QPalette) -> None:
        """The cell's background and picture only (a fill and at most one pixmap copy)."""
        painter.fillRect(area, palette.color(QPalette.ColorRole.Base))
        thumb = self._thumb_rect(area)
        if thumbnail is None:
            painter.fillRect(thumb.adjusted(8, 8, -8, -8), palette.color(QPalette.ColorRole.AlternateBase))
            return
        painter.drawPixmap(self._centred(thumbnail, thumb), thumbnail)

    def _small_font(self, font: QFont) -> QFont:
        if self._small is None or self._small[0] != font:
            small = QFont(font)
            small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
            self._small = (QFont(font), small)
        return self._small[1]

    def _thumb_rect(self, cell: QRect) -> QRect:
        rect = cell.adjusted(2, 2, -2, -2)
        return QRect(rect.left() + PAD - 2, rect.top() + PAD - 2, rect.width() - 2 * PAD + 4, self.thumb_size)

    def _render_frame(self, painter: QPainter, area: QRect, info: PhotoInfo | None, placeholder: bool,
                      palette: QPalette, selected: bool) -> None:
        rect = area.adjusted(2, 2, -2, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected:
            highlight = palette.color(QPalette.ColorRole.Highlight)
            fill = QColor(highlight)
            fill.setAlpha(70)
            painter.fillRect(rect, fill)  # a plain rectangle: ten times cheaper than a rounded one
            painter.setPen(highlight)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        thumb = self._thumb_rect(area)
        if placeholder:
            self._paint_placeholder(painter, thumb, info, palette)
        if info is not None:
            small = QFont(painter.font())
            small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
            painter.setFont(small)
            metrics = QFontMetrics(small)
            name_rect = QRect(rect.left() + PAD, thumb.bottom() + 3, rect.width() - 2 * PAD, NAME_H)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(name_rect, Qt.AlignmentFlag.AlignCenter,
                             metrics.elidedText(info.name, Qt.TextElideMode.ElideMiddle, name_rect.width()))
            chips = QRect(rect.left() + PAD, name_rect.bottom() + 1, rect.width() - 2 * PAD, CHIPS_H - 4)
            suggested = SUGGESTED if palette.color(QPalette.ColorRole.Base).lightness() > 128 else SUGGESTED_ON_DARK
            self._paint_chips(painter, chips, info, metrics, suggested)
        painter.restore()

    def _paint_thumbnail(self, painter: QPainter, area: QRect, pixmap: QPixmap, info: PhotoInfo | None,
                         palette: QPalette) -> QRect:
        """The thumbnail centred in `area` (faded for a missing file); returns where it went."""
        target = self._centred(pixmap, area)
        missing = info is not None and info.status == "missing"
        if missing:
            painter.setOpacity(0.35)
        painter.drawPixmap(target, pixmap)
        painter.setOpacity(1.0)
        if missing:
            self._label(painter, area, "File missing", palette.color(QPalette.ColorRole.Text))
        return target

    @staticmethod
    def _centred(pixmap: QPixmap, area: QRect) -> QRect:
        size = pixmap.deviceIndependentSize().toSize()
        if size.width() > area.width() or size.height() > area.height():  # a pixmap of the old zoom
            size = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(area.center())
        return target

    def _paint_placeholder(self, painter: QPainter, area: QRect, info: PhotoInfo | None, palette: QPalette) -> None:
        status = info.status if info is not None else "pending"
        picture = area.adjusted(8, 8, -8, -8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRect(picture)
        if status == "error":
            big = QFont(painter.font())
            big.setPointSizeF(max(big.pointSizeF(), 9.0) * 2.2)
            painter.setFont(big)
            painter.setPen(QColor("#d9534f"))
            painter.drawText(area.adjusted(0, -14, 0, -14), Qt.AlignmentFlag.AlignCenter, "\u26a0")
            painter.setFont(QFont())
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(area.adjusted(0, 30, 0, 30), Qt.AlignmentFlag.AlignCenter, "Cannot read this file")
        else:
            text = {"missing": "File missing", "pending": "Indexing\u2026"}.get(status, "")
            self._label(painter, area, text, palette.color(QPalette.ColorRole.PlaceholderText))

    @staticmethod
    def _label(painter: QPainter, area: QRect, text: str, color: QColor) -> None:
        painter.setPen(color)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)

    def _badge(self, painter: QPainter, area: QRect, count: int, font: QFont) -> None:
        """An orange pill with the number of suggestions waiting for a yes or no."""
        text = str(count) if count < 100 else "99+"
        pixmap = self._chip(text, BADGE, QColor("white"), BADGE, font, bold=True)
        width = round(pixmap.width() / pixmap.devicePixelRatio())
        painter.drawPixmap(area.right() - width - 3, area.top() + 3, pixmap)

    def _chip(self, text: str, border: QColor, color: QColor, fill: QColor | None, font: QFont,
              bold: bool = False) -> QPixmap:
        """A rounded label, rendered once and reused: antialiased rounded rectangles are
        the most expensive thing in a cell (~0.3 ms each), a pixmap copy costs ~nothing."""
        key = (text, border.rgba(), color.rgba(), fill.rgba() if fill else 0, font.pointSizeF(), bold)
        pixmap = self._chips.get(key)
        if pixmap is None:
            font = QFont(font)
            font.setBold(bold)
            metrics = QFontMetrics(font)
            width, height = max(18, metrics.horizontalAdvance(text) + 10), CHIPS_H - 4
            ratio = 2.0
            pixmap = QPixmap(int(width * ratio), int(height * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            chip = QPainter(pixmap)
            chip.setRenderHint(QPainter.RenderHint.Antialiasing)
            chip.setFont(font)
            chip.setPen(border)
            chip.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
            chip.drawRoundedRect(QRectF(0.5, 0.5, width - 1, height - 1), (height - 1) / 2, (height - 1) / 2)
            chip.setPen(color)
            chip.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, text)
            chip.end()
            if len(self._chips) > 4000:
                self._chips.clear()
            self._chips[key] = pixmap
        return pixmap

    def _paint_chips(self, painter: QPainter, area: QRect, info: PhotoInfo, metrics: QFontMetrics,
                     suggested: QColor) -> None:
        """Confirmed tags filled green, unreviewed suggestions outlined blue; '+N' for the rest."""
        x = area.left()
        for i, tag in enumerate(info.tags):
            confirmed = tag in info.confirmed
            colours = (CONFIRMED, WHITE, CONFIRMED) if confirmed else (suggested, suggested, None)
            shown = tag.replace(TAG_PATH_SEPARATOR, PATH_SEPARATOR)  # `People|Paris` as the panel shows it
            pixmap = self._chip(shown, *colours, painter.font())
            width = round(pixmap.width() / pixmap.devicePixelRatio())
            rest = len(info.tags) - i
            room = area.right() - x - (metrics.horizontalAdvance(f"+{rest}") + 6 if rest > 1 else 0)
            if width > room:
                if i > 0 or width <= area.width():
                    painter.setPen(suggested)
                    painter.drawText(QRect(x, area.top(), area.right() - x, area.height()),
                                     Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, f"+{rest}")
                    return
                name = metrics.elidedText(shown, Qt.TextElideMode.ElideRight, area.width() - 10)
                pixmap = self._chip(name, *colours, painter.font())
                width = area.width()
            painter.drawPixmap(x, area.top(), pixmap)
            x += width + 4
