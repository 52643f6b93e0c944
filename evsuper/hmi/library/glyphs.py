"""The connector symbol: a numbered square whose fill encodes the connector state."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap

from evsuper.hmi.theme import ConnectorStyle, GlyphFill, Palette, font


def paint_connector_glyph(
    painter: QPainter,
    rect: QRectF,
    number: int,
    style: ConnectorStyle,
    *,
    live: bool = True,
) -> None:
    """Paint the symbol in ``rect``; ``live=False`` draws it as last-known (outline only)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    box = rect.adjusted(0.5, 0.5, -0.5, -0.5)
    fill = style.fill if live else GlyphFill.NONE
    outline = Palette.ALARM if fill is GlyphFill.ALARM else Palette.BAR_FILL
    if not live:
        outline = Palette.OFFLINE_DIM
    number_color: QColor = Palette.TEXT if live else Palette.OFFLINE_DIM

    painter.setPen(Qt.PenStyle.NoPen)
    if fill is GlyphFill.SOLID:
        painter.fillRect(box, Palette.BAR_FILL)
        number_color = Palette.TILE
    elif fill is GlyphFill.SOLID_LIGHT:
        painter.fillRect(box, Palette.SUSPENDED_FILL)
    elif fill is GlyphFill.PARTIAL:
        painter.fillRect(
            QRectF(box.left(), box.center().y(), box.width(), box.height() / 2),
            Palette.SUSPENDED_FILL,
        )
    elif fill is GlyphFill.HATCHED:
        painter.fillRect(box, QBrush(Palette.TEXT_MUTED, Qt.BrushStyle.BDiagPattern))
        outline = Palette.TEXT_MUTED
        number_color = Palette.TEXT_SECONDARY
    elif fill is GlyphFill.CROSSHATCHED:
        painter.fillRect(box, QBrush(Palette.TEXT_SECONDARY, Qt.BrushStyle.DiagCrossPattern))
        outline = Palette.TEXT_SECONDARY
        number_color = Palette.TEXT
    elif fill is GlyphFill.ALARM:
        painter.fillRect(box, Palette.ALARM)
        number_color = Palette.ON_ALARM

    pen = QPen(outline, 1.0)
    if fill is GlyphFill.DASHED:
        pen.setStyle(Qt.PenStyle.DashLine)
    elif fill is GlyphFill.NONE:
        pen.setStyle(Qt.PenStyle.DotLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(box)

    painter.setFont(font(max(6.0, min(rect.height() * 0.45, 12.0)), bold=True))
    painter.setPen(number_color)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(number))
    painter.restore()


def connector_glyph_pixmap(
    number: int, style: ConnectorStyle, size: QSize, *, live: bool = True
) -> QPixmap:
    """The symbol as a pixmap, for labels in faceplates."""
    pixmap = QPixmap(size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    rect = QRectF(0, 0, size.width(), size.height())
    paint_connector_glyph(painter, rect, number, style, live=live)
    painter.end()
    return pixmap
